import { fenceHost } from '../core/fence-host.js';
import { functionRuntime } from '../core/function-runtime.js';
import type { RuntimeProvider } from '../core/runtime.js';
import { fencerDrivers } from '../drivers/fencer/registry.js';
import { taskHandler } from './lib/task-handler.js';
import { hostInput } from './schemas.js';

/** Idempotent: a host whose power already reads off is not powered off again. */
export const createHandler = (rt: RuntimeProvider) => taskHandler('FenceHost', hostInput, fenceHost, rt);
export const handler = createHandler(functionRuntime({ fencer: fencerDrivers }));
