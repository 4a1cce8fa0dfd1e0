import { confirmHostFailure } from '../core/confirm-failure.js';
import { functionRuntime } from '../core/function-runtime.js';
import type { RuntimeProvider } from '../core/runtime.js';
import { cloudDrivers } from '../drivers/cloud/registry.js';
import { taskHandler } from './lib/task-handler.js';
import { hostInput } from './schemas.js';

/**
 * Retry or re-drive: reads Nova only and changes nothing. A re-drive after MarkHostDown
 * confirms at once (a forced-down service counts as down), so a resumed run does not wait
 * for Nova's service_down_time again.
 */
export const createHandler = (rt: RuntimeProvider) =>
  taskHandler('ConfirmHostFailure', hostInput, confirmHostFailure, rt);
export const handler = createHandler(functionRuntime({ cloud: cloudDrivers }));
