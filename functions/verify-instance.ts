import { hostName } from '../core/host-name.js';
import type { RuntimeProvider } from '../core/runtime.js';
import { verifyInstance } from '../core/verify-instance.js';
import * as z from '../core/zod.js';
import { cloudDrivers } from '../drivers/cloud/registry.js';
import { stateDrivers } from '../drivers/state/registry.js';
import { functionRuntime } from './lib/function-runtime.js';
import { taskHandler } from './lib/task-handler.js';
import { evacuationRecord, instanceId } from './schemas.js';

const input = z.object({ id: instanceId, host: hostName, evacuation: evacuationRecord });

/**
 * Retry or re-drive: reads the server; its corrections (start, reset to ERROR) apply only
 * while still needed, and unlocking an instance that is already unlocked changes nothing.
 */
export const createHandler = (rt: RuntimeProvider) =>
  taskHandler('VerifyInstance', input, verifyInstance, rt);
export const handler = createHandler(functionRuntime({ cloud: cloudDrivers, state: stateDrivers }));
