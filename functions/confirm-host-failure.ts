import { confirmHostFailure } from '../core/confirm-failure.js';
import { defaultRuntime, type RuntimeProvider } from '../core/runtime.js';
import { taskHandler } from './lib/task-handler.js';
import { hostInput } from './schemas.js';

/** Idempotent: reads Nova only. */
export const createHandler = (rt: RuntimeProvider) =>
  taskHandler('ConfirmHostFailure', hostInput, confirmHostFailure, rt);
export const handler = createHandler(defaultRuntime);
