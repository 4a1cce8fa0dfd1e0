import { confirmHostFailure } from '../core/confirm-host-failure.js';
import { hostName } from '../core/host-name.js';
import type { RuntimeProvider } from '../core/runtime.js';
import * as z from '../core/zod.js';
import { cloudDrivers } from '../drivers/cloud/registry.js';
import { stateDrivers } from '../drivers/state/registry.js';
import { functionRuntime } from './lib/function-runtime.js';
import { taskHandler } from './lib/task-handler.js';
import { channel, confirmRecord, incident } from './schemas.js';

// The workflow hands over its whole state: the execution input (host, incident, the
// channels that started it, operator) and the previous read's record ($.confirm), absent
// on the first read (JSONPath has no defaults, so the handler takes what is there).
const input = z.object({
  recovery: z.looseObject({
    host: hostName,
    incident,
    channels: z.optional(z.array(channel)),
    operator: z.optional(z.boolean()),
    confirm: z.optional(z.nullable(confirmRecord)),
  }),
  executionName: z.optional(z.nullable(z.string())),
});

/**
 * Retry or re-drive: reads Nova and changes nothing in the cloud. A re-drive after
 * MarkHostDown confirms at once (the service is forced down with freezer-dr's reason), so a
 * resumed run does not wait for Nova again. Notice claims are owned by the execution, so a
 * retried read gets the same answer about its notice.
 */
export const createHandler = (rt: RuntimeProvider) =>
  taskHandler(
    'ConfirmHostFailure',
    input,
    (runtime, { recovery, executionName }) =>
      confirmHostFailure(runtime, {
        host: recovery.host,
        incident: recovery.incident,
        channels: recovery.channels,
        operator: recovery.operator,
        previous: recovery.confirm ?? null,
        executionName,
      }),
    rt,
  );
// The state store holds its notice claims (shared with the intake's on AWS).
export const handler = createHandler(functionRuntime({ cloud: cloudDrivers, state: stateDrivers }));
