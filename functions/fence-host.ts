import { fenceHost } from '../core/fence-host.js';
import type { RuntimeProvider } from '../core/runtime.js';
import { fencerDrivers } from '../drivers/fencer/registry.js';
import { functionRuntime } from './lib/function-runtime.js';
import { taskHandler } from './lib/task-handler.js';
import { hostInput } from './schemas.js';

/**
 * Retry or re-drive: the power is read first, and a host that reads off is not powered off
 * again, so a run killed after its power-off (or resumed by the reconciler) sends no second
 * one. A failed off request is recorded, not retried blind: VerifyPowerOff decides from
 * readings alone.
 */
export const createHandler = (rt: RuntimeProvider) => taskHandler('FenceHost', hostInput, fenceHost, rt);
export const handler = createHandler(functionRuntime({ fencer: fencerDrivers }));
