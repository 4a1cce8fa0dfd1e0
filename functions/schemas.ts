// Input shapes of the Task states, as the workflow's Parameters build them.
import { CONFIRM_STATUSES } from '../core/confirm-host-failure.js';
import { MIGRATE_ACTIONS } from '../core/drain/migrate-instance.js';
import { EVACUATE_ACTIONS } from '../core/evacuate-instance.js';
import { hostName } from '../core/host-name.js';
import { CHANNELS, NOTIFICATION_KINDS } from '../core/ports.js';
import * as z from '../core/zod.js';

export const incident = z.string().check(z.minLength(1), z.maxLength(200));
export const instanceId = z
  .string()
  .check(z.minLength(1), z.maxLength(64), z.regex(/^[A-Za-z0-9-]+$/, 'must be a server id'));
const isoTime = z.iso.datetime({ offset: true });
const nullish = <T extends z.core.SomeType>(schema: T) => z.optional(z.nullable(schema));

export const hostInput = z.object({ host: hostName, incident });
/** Which workflow asks: the recovery (default) or the drain (its own selection and concurrency). */
export const purpose = z.optional(z.enum(['recovery', 'drain']));

/** MigrateInstance's record, handed to VerifyMigration on every read. */
export const migrationRecord = z.object({
  action: z.enum(MIGRATE_ACTIONS),
  kind: z.nullable(z.enum(['live', 'cold'])),
  prior: z.nullable(z.string()),
  startedAt: isoTime,
  target: z.nullable(z.string()),
  reason: z.nullable(z.string().check(z.maxLength(500))),
  waitSeconds: z.int().check(z.minimum(0)),
});

export const fenceRecord = z.object({
  method: z.string(),
  controller: z.string(),
  recordOnly: z.boolean(),
  before: z.optional(z.string()),
  offRequested: z.optional(z.boolean()),
  offError: nullish(z.string()),
  at: isoTime,
});

export const evacuationRecord = z.object({
  action: z.enum(EVACUATE_ACTIONS),
  prior: z.nullable(z.string()),
  lockedByUs: z.boolean(),
  startedAt: isoTime,
  target: nullish(hostName),
  reason: nullish(z.string()),
});

export const instanceResult = z.object({
  id: instanceId,
  outcome: z.string(),
  to: nullish(z.string()),
  final: nullish(z.string()),
  seconds: nullish(z.number()),
  reason: nullish(z.string()),
  error: z.optional(z.string()),
  cause: z.optional(z.string()),
});

/** The Map of restart-priority waves returns one array of results per wave. */
export const waveResults = z.array(z.union([instanceResult, z.array(instanceResult)]));

export const unplacedInstance = z.object({ id: instanceId, name: z.string(), reason: z.string() });

export const stage = z.object({ stage: z.string(), at: z.string(), detail: z.string() });

/** A witness of the failure, as the intake puts it in the execution input. */
export const channel = z.object({
  channel: z.enum(CHANNELS),
  source: z.string().check(z.maxLength(64)),
  at: z.string().check(z.maxLength(40)),
  detail: z.string().check(z.maxLength(500)),
});

/** ConfirmHostFailure's record, handed back to it by the workflow on the next read. */
export const confirmRecord = z.object({
  status: z.enum(CONFIRM_STATUSES),
  serviceId: z.string(),
  evidence: z.string(),
  at: z.string(),
  since: z.string(),
  checks: z.int().check(z.minimum(0)),
  lastUpdatedAt: z.nullable(z.string()),
  reports: z.int().check(z.minimum(0)),
  waitSeconds: z.int().check(z.minimum(0)),
  channels: z.array(channel),
  notify: z.boolean(),
  notifyKind: z.nullable(z.enum(NOTIFICATION_KINDS)),
  clock: z.enum(['nova', 'local']),
});
