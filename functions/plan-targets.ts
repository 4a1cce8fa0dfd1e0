import { hostName } from '../core/host-name.js';
import { planEvacuation } from '../core/plan-evacuation.js';
import type { RuntimeProvider } from '../core/runtime.js';
import * as z from '../core/zod.js';
import { cloudDrivers } from '../drivers/cloud/registry.js';
import { stateDrivers } from '../drivers/state/registry.js';
import { functionRuntime } from './lib/function-runtime.js';
import { taskHandler } from './lib/task-handler.js';
import { incident, instanceId, purpose } from './schemas.js';

const input = z.object({ host: hostName, incident, ids: z.array(instanceId), purpose });

/**
 * Retry or re-drive: reads Nova, and the same cloud state gives the same plan. Its one
 * write, enabling a reserved host the plan uses, is a no-op when run again.
 */
export const createHandler = (rt: RuntimeProvider) =>
  taskHandler('PlanTargets', input, (r, i) => planEvacuation(r, i), rt);
export const handler = createHandler(functionRuntime({ cloud: cloudDrivers, state: stateDrivers }));
