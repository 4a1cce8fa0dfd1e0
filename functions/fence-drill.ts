// Scheduled fence drill (e.g. daily from EventBridge): reads every BMC's power status
// through the fencer and returns the report; problem hosts are logged at WARN for alarms.
// The CLI calls runFenceDrill/formatDrillReport from core/fence-drill.ts directly.
import middy from '@middy/core';
import { type DrillReport, runFenceDrill } from '../core/fence-drill.js';
import { defaultRuntime, type RuntimeProvider } from '../core/runtime.js';

export const createHandler = (rt: RuntimeProvider) =>
  middy<unknown, DrillReport>().handler(async () => runFenceDrill(await rt()));

export const handler = createHandler(defaultRuntime);
