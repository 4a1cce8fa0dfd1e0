// Scheduled fence drill (e.g. daily from EventBridge): reads every BMC's power status
// through the fencer and returns the report; problem hosts are logged at WARN for alarms.
// The CLI calls runFenceDrill/formatDrillReport from core/fence-drill.ts directly.
import middy from '@middy/core';
import { type DrillReport, runFenceDrill } from '../core/fence-drill.js';
import type { RuntimeProvider } from '../core/runtime.js';
import { fencerDrivers } from '../drivers/fencer/registry.js';
import { functionRuntime } from './lib/function-runtime.js';

/** Retry: reads power status only; run again it reads again and powers nothing. */
export const createHandler = (rt: RuntimeProvider) =>
  middy<unknown, DrillReport>().handler(async () => runFenceDrill(await rt()));

// Fencer only: relay fencers drill their own inventory. (A fencer without one would need the
// cloud's host list, which this function does not load, and says so.)
export const handler = createHandler(functionRuntime({ fencer: fencerDrivers }));
