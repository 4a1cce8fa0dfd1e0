import { summarizeDrain } from '../core/drain/summarize-drain.js';
import { hostName } from '../core/host-name.js';
import type { RuntimeProvider } from '../core/runtime.js';
import * as z from '../core/zod.js';
import { cloudDrivers } from '../drivers/cloud/registry.js';
import { stateDrivers } from '../drivers/state/registry.js';
import { functionRuntime } from './lib/function-runtime.js';
import { taskHandler } from './lib/task-handler.js';
import { waveResults } from './schemas.js';

const input = z.object({
  host: hostName,
  selectedCount: z.int().check(z.minimum(0)),
  skippedCount: z.int().check(z.minimum(0)),
  results: waveResults,
});

/** Retry or re-drive: reads Nova only (what the host still holds, whether it is up). */
export const createHandler = (rt: RuntimeProvider) =>
  taskHandler('SummarizeDrain', input, summarizeDrain, rt);
export const handler = createHandler(functionRuntime({ cloud: cloudDrivers, state: stateDrivers }));
