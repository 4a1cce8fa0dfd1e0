import { disableHostForDrain } from '../core/drain/disable-host-for-drain.js';
import type { RuntimeProvider } from '../core/runtime.js';
import * as z from '../core/zod.js';
import { cloudDrivers } from '../drivers/cloud/registry.js';
import { stateDrivers } from '../drivers/state/registry.js';
import { functionRuntime } from './lib/function-runtime.js';
import { taskHandler } from './lib/task-handler.js';
import { hostInput } from './schemas.js';

const input = z.extend(hostInput, { cause: z.string().check(z.maxLength(8000)) });

/**
 * Retry or re-drive: a service already disabled with this drain's reason is left alone
 * (changed: false); otherwise the same update is sent, which Nova applies as a set.
 */
export const createHandler = (rt: RuntimeProvider) =>
  taskHandler('DisableHostForDrain', input, disableHostForDrain, rt);
export const handler = createHandler(functionRuntime({ cloud: cloudDrivers, state: stateDrivers }));
