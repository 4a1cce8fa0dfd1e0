import { hostName } from '../core/host-name.js';
import type { RuntimeProvider } from '../core/runtime.js';
import { summarize } from '../core/summarize.js';
import * as z from '../core/zod.js';
import { functionRuntime } from './lib/function-runtime.js';
import { taskHandler } from './lib/task-handler.js';
import { waveResults } from './schemas.js';

const input = z.object({
  host: hostName,
  selectedCount: z.int().check(z.minimum(0)),
  skippedCount: z.int().check(z.minimum(0)),
  results: waveResults,
  unplacedCount: z.optional(z.int().check(z.minimum(0))),
});

/** Retry or re-drive: pure, the verdict comes from its input alone; run again it gives the same answer. */
export const createHandler = (rt: RuntimeProvider) =>
  taskHandler('Summarize', input, async (_rt, i) => summarize(i), rt);
export const handler = createHandler(functionRuntime({}));
