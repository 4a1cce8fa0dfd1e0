import { migrateInstance } from '../core/drain/migrate-instance.js';
import { hostName } from '../core/host-name.js';
import type { RuntimeProvider } from '../core/runtime.js';
import * as z from '../core/zod.js';
import { cloudDrivers } from '../drivers/cloud/registry.js';
import { stateDrivers } from '../drivers/state/registry.js';
import { functionRuntime } from './lib/function-runtime.js';
import { taskHandler } from './lib/task-handler.js';
import { incident, instanceId } from './schemas.js';

const input = z.object({
  id: instanceId,
  host: hostName,
  incident,
  target: z.optional(z.nullable(hostName)),
});

/**
 * Retry or re-drive: reads the server and its migration records first; one already on
 * another host, moving (task state), or with a live or cold migration in flight from this
 * host is not sent again, so a migration whose answer was lost is never asked twice, and a
 * 409 from a duplicate racing it reads as in progress.
 */
export const createHandler = (rt: RuntimeProvider) =>
  taskHandler('MigrateInstance', input, migrateInstance, rt);
export const handler = createHandler(functionRuntime({ cloud: cloudDrivers, state: stateDrivers }));
