import { functionRuntime } from '../core/function-runtime.js';
import { notify } from '../core/notify.js';
import type { RuntimeProvider } from '../core/runtime.js';
import * as z from '../core/zod.js';
import { cloudDrivers } from '../drivers/cloud/registry.js';
import { notifierDrivers } from '../drivers/notifier/registry.js';
import { NOTIFICATION_KINDS } from '../drivers/types.js';
import { taskHandler } from './lib/task-handler.js';
import { fenceRecord, hostName, incident, stage, unplacedInstance, waveResults } from './schemas.js';

const input = z.object({
  kind: z.enum(NOTIFICATION_KINDS),
  host: hostName,
  incident,
  cause: z.string().check(z.maxLength(2000)),
  requestedAt: z.string(),
  executionName: z.optional(z.nullable(z.string())),
  error: z.optional(z.nullable(z.object({ Error: z.optional(z.string()), Cause: z.optional(z.string()) }))),
  fence: z.optional(z.nullable(fenceRecord)),
  power: z.optional(z.nullable(z.object({ verified: z.boolean(), at: z.string() }))),
  stages: z.optional(z.array(stage)),
  results: z.optional(waveResults),
  unplaced: z.optional(z.array(unplacedInstance)),
  skippedCount: z.optional(z.int().check(z.minimum(0))),
});

/**
 * Retry or re-drive: not idempotent by nature; run again it sends the report again (a
 * duplicate, never a lost report) and changes nothing else. It never fails the recovery.
 */
export const createHandler = (rt: RuntimeProvider) => taskHandler('Notify', input, notify, rt);
export const handler = createHandler(functionRuntime({ cloud: cloudDrivers, notifiers: notifierDrivers }));
