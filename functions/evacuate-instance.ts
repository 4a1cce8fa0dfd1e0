import { evacuateInstance } from '../core/evacuate-instance.js';
import { functionRuntime } from '../core/function-runtime.js';
import type { RuntimeProvider } from '../core/runtime.js';
import * as z from '../core/zod.js';
import { cloudDrivers } from '../drivers/cloud/registry.js';
import { taskHandler } from './lib/task-handler.js';
import { hostName, incident, instanceId } from './schemas.js';

const input = z.object({ id: instanceId, host: hostName, incident });

/**
 * Idempotent: reads the server first; one already on another host, rebuilding, or with
 * an evacuation migration in flight is not evacuated again.
 */
export const createHandler = (rt: RuntimeProvider) =>
  taskHandler('EvacuateInstance', input, evacuateInstance, rt);
export const handler = createHandler(functionRuntime({ cloud: cloudDrivers }));
