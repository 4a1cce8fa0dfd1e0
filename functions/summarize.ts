import { z } from 'zod';
import type { RuntimeProvider } from '../core/runtime.js';
import { defaultRuntime } from '../core/runtime.js';
import { summarize } from '../core/summarize.js';
import { taskHandler } from './lib/task-handler.js';
import { hostName, instanceResult } from './schemas.js';

const input = z.object({
  host: hostName,
  selectedCount: z.number().int().min(0),
  skippedCount: z.number().int().min(0),
  results: z.array(instanceResult),
});

/** Pure: computes the verdict from its input. */
export const createHandler = (rt: RuntimeProvider) =>
  taskHandler('Summarize', input, async (_rt, i) => summarize(i), rt);
export const handler = createHandler(defaultRuntime);
