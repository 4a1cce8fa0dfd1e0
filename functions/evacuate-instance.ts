import { evacuateInstance } from '../core/evacuate-instance.js';
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
 * Retry or re-drive: reads the server and its evacuations first; one already on another
 * host, rebuilding, or with an evacuation in flight is not evacuated again (so an evacuate
 * whose answer was lost is not sent twice), and a 409 from a duplicate racing it reads as
 * in progress. A lock left by this incident's interrupted run is recognised by its reason
 * and released by VerifyInstance.
 */
export const createHandler = (rt: RuntimeProvider) =>
  // `reason` always present: the workflow's ResultSelector reads it.
  taskHandler(
    'EvacuateInstance',
    input,
    async (r, i) => ({ reason: null, ...(await evacuateInstance(r, i)) }),
    rt,
  );
export const handler = createHandler(functionRuntime({ cloud: cloudDrivers, state: stateDrivers }));
