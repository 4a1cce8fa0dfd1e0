import { z } from 'zod';
import { defaultRuntime, type RuntimeProvider } from '../core/runtime.js';
import { verifyPowerOff } from '../core/verify-power-off.js';
import { taskHandler } from './lib/task-handler.js';
import { hostInput } from './schemas.js';

const input = hostInput.extend({ offError: z.string().nullable().optional() });

/** Idempotent: reads the power state only. */
export const createHandler = (rt: RuntimeProvider) =>
  taskHandler('VerifyPowerOff', input, verifyPowerOff, rt);
export const handler = createHandler(defaultRuntime);
