import { z } from 'zod';
import { notify } from '../core/notify.js';
import { defaultRuntime, type RuntimeProvider } from '../core/runtime.js';
import { taskHandler } from './lib/task-handler.js';
import { fenceRecord, hostName, incident, instanceResult, stage } from './schemas.js';

const input = z.object({
  kind: z.enum(['recovery', 'fencing-failed', 'recovery-failed', 'not-confirmed', 'mass-failure', 'paused']),
  host: hostName,
  incident,
  cause: z.string().max(2000),
  requestedAt: z.string(),
  executionName: z.string().nullable().optional(),
  error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).nullable().optional(),
  fence: fenceRecord.nullable().optional(),
  power: z.object({ verified: z.boolean(), at: z.string() }).nullable().optional(),
  stages: z.array(stage).optional(),
  results: z.array(instanceResult).optional(),
  skippedCount: z.number().int().min(0).optional(),
});

/** Not idempotent by nature (a re-run sends the messages again); it never fails the recovery. */
export const createHandler = (rt: RuntimeProvider) => taskHandler('Notify', input, notify, rt);
export const handler = createHandler(defaultRuntime);
