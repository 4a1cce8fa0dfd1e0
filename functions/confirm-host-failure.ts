import { confirmHostFailure } from '../core/confirm-failure.js';
import { functionRuntime } from '../core/function-runtime.js';
import type { RuntimeProvider } from '../core/runtime.js';
import { cloudDrivers } from '../drivers/cloud/registry.js';
import { taskHandler } from './lib/task-handler.js';
import { hostInput } from './schemas.js';

/** Idempotent: reads Nova only. */
export const createHandler = (rt: RuntimeProvider) =>
  taskHandler('ConfirmHostFailure', hostInput, confirmHostFailure, rt);
export const handler = createHandler(functionRuntime({ cloud: cloudDrivers }));
