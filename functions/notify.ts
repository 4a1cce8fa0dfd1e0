import { hostName } from '../core/host-name.js';
import { notify } from '../core/notify.js';
import { NOTIFICATION_KINDS } from '../core/ports.js';
import type { RuntimeProvider } from '../core/runtime.js';
import * as z from '../core/zod.js';
import { cloudDrivers } from '../drivers/cloud/registry.js';
import { notifierDrivers } from '../drivers/notifier/registry.js';
import { stateDrivers } from '../drivers/state/registry.js';
import { functionRuntime } from './lib/function-runtime.js';
import { taskHandler } from './lib/task-handler.js';
import { fenceRecord, incident, stage, unplacedInstance, waveResults } from './schemas.js';

// The intake's refusal notices (functions/lib/notice-relay.ts) name the hosts left alone,
// "compute-1, compute-2 and 3 more" (at most 20 names), and explain why in their cause.
const hostList = z
  .string()
  .check(
    z.maxLength(6000),
    z.regex(/^[A-Za-z0-9][A-Za-z0-9._, -]*$/, 'must be host names separated by ", "'),
  );

const input = z.object({
  kind: z.enum(NOTIFICATION_KINDS),
  host: z.union([hostName, hostList]),
  incident,
  cause: z.string().check(z.maxLength(8000)),
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
 * Also invoked asynchronously by the intake (webhook, monitor) with a refusal notice.
 * Retry or re-drive: not idempotent by nature; run again it sends the report again (a
 * duplicate, never a lost report) and changes nothing else. It never fails the recovery.
 */
export const createHandler = (rt: RuntimeProvider) => taskHandler('Notify', input, notify, rt);
export const handler = createHandler(
  functionRuntime({ cloud: cloudDrivers, state: stateDrivers, notifiers: notifierDrivers }),
);
