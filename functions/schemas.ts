// Input shapes of the Task states, as the workflow's Parameters build them.
import { z } from 'zod';

export const hostName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a host name (letters, digits, ".", "_", "-")');
export const incident = z.string().min(1).max(200);
export const instanceId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9-]+$/, 'must be a server id');
const isoTime = z.string().datetime({ offset: true });

export const hostInput = z.object({ host: hostName, incident });

export const fenceRecord = z.object({
  method: z.string(),
  controller: z.string(),
  recordOnly: z.boolean(),
  before: z.string().optional(),
  offRequested: z.boolean().optional(),
  offError: z.string().nullable().optional(),
  at: isoTime,
});

export const evacuationRecord = z.object({
  action: z.enum(['evacuated', 'in-progress', 'already-moved', 'gone']),
  prior: z.string().nullable(),
  lockedByUs: z.boolean(),
  startedAt: isoTime,
});

export const instanceResult = z.object({
  id: instanceId,
  outcome: z.string(),
  to: z.string().nullable().optional(),
  final: z.string().nullable().optional(),
  seconds: z.number().nullable().optional(),
  reason: z.string().nullable().optional(),
  error: z.string().optional(),
  cause: z.string().optional(),
});

export const stage = z.object({ stage: z.string(), at: z.string(), detail: z.string() });
