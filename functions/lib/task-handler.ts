// Every Task state's Lambda is this shape: middy, zod on the way in (a bad field is
// named and nothing runs), the step's logic from core/, and named errors on the way out
// so the workflow's Retry/Catch can tell transient faults from final ones.
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { describeIssues } from '../../core/config.js';
import { INPUT_INVALID, WorkflowError } from '../../core/errors.js';
import { publishMetrics } from '../../core/metrics.js';
import type { Runtime, RuntimeProvider } from '../../core/runtime.js';
import type * as z from '../../core/zod.js';

export type TaskHandler = (event: unknown, context: Context) => Promise<unknown>;

export function taskHandler<S extends z.ZodMiniType, R>(
  step: string,
  schema: S,
  run: (rt: Runtime, input: z.infer<S>) => Promise<R>,
  getRuntime: RuntimeProvider,
): TaskHandler {
  const handler = middy<unknown, R>().handler(async (event) => {
    const parsed = schema.safeParse(event);
    if (!parsed.success) {
      throw new WorkflowError(INPUT_INVALID, `${step}: invalid input: ${describeIssues(parsed.error)}`);
    }
    const rt = await getRuntime();
    // The execution name is the correlation id: every log line of one recovery carries it.
    const execution = (event as { executionName?: unknown }).executionName;
    const logger =
      typeof execution === 'string'
        ? rt.logger.createChild({ persistentKeys: { execution, step } })
        : rt.logger;
    try {
      return await run({ ...rt, logger }, parsed.data);
    } finally {
      publishMetrics();
    }
  });
  return handler as unknown as TaskHandler;
}
