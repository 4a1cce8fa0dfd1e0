import { checkDrainHost } from '../core/drain/check-drain-host.js';
import type { RuntimeProvider } from '../core/runtime.js';
import { cloudDrivers } from '../drivers/cloud/registry.js';
import { stateDrivers } from '../drivers/state/registry.js';
import { functionRuntime } from './lib/function-runtime.js';
import { taskHandler } from './lib/task-handler.js';
import { hostInput } from './schemas.js';

/** Retry or re-drive: reads Nova only; run again it gives the verdict of the cloud as it is then. */
export const createHandler = (rt: RuntimeProvider) =>
  taskHandler('CheckDrainHost', hostInput, checkDrainHost, rt);
export const handler = createHandler(functionRuntime({ cloud: cloudDrivers, state: stateDrivers }));
