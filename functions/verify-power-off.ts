import type { RuntimeProvider } from '../core/runtime.js';
import { verifyPowerOff } from '../core/verify-power-off.js';
import * as z from '../core/zod.js';
import { fencerDrivers } from '../drivers/fencer/registry.js';
import { functionRuntime } from './lib/function-runtime.js';
import { taskHandler } from './lib/task-handler.js';
import { hostInput } from './schemas.js';

const input = z.extend(hostInput, { offError: z.optional(z.nullable(z.string())) });

/**
 * Retry or re-drive: reads the power state only; run again it polls again, and can only
 * confirm the fence or refuse it, never act on the host.
 */
export const createHandler = (rt: RuntimeProvider) =>
  taskHandler('VerifyPowerOff', input, verifyPowerOff, rt);
export const handler = createHandler(functionRuntime({ fencer: fencerDrivers }));
