// Scheduled monitor (EventBridge, every minute): freezer-dr's own watch on Nova. Each compute
// service Nova reports down goes through the same intake decisions and gates as an alert,
// so a host is recovered even when no external monitor sends anything, and an alert and the
// poll for one incident start one execution (the same name).
import middy from '@middy/core';
import { type ExecutionsApi, StepFunctionsExecutions } from '../core/executions.js';
import { withIntakeCloud } from '../core/intake/config.js';
import { Intake } from '../core/intake/intake.js';
import type { NoticeSender } from '../core/intake/refusals.js';
import { publishMetrics } from '../core/metrics.js';
import { pollMonitors } from '../core/monitor.js';
import type { RuntimeProvider } from '../core/runtime.js';
import { cloudDrivers } from '../drivers/cloud/registry.js';
import { createMonitors } from '../drivers/monitor/registry.js';
import { stateDrivers } from '../drivers/state/registry.js';
import { functionRuntime } from './lib/function-runtime.js';
import { noticeRelay } from './lib/notice-relay.js';

export interface MonitorSummary {
  signals: number;
  started: string[];
  refused: number;
  errors: { monitor: string; error: string }[];
}

/**
 * Retry, or two polls at once: the poll changes nothing itself; a start goes through the
 * intake, whose execution name (host + the service's last report) Step Functions refuses
 * twice, so a repeated poll reads as already handled.
 */
export const createHandler = (
  rt: RuntimeProvider,
  executions: () => ExecutionsApi,
  notice?: NoticeSender,
) => {
  let intake: Intake | null = null;
  return middy<unknown, MonitorSummary>().handler(async () => {
    const runtime = await rt();
    // The poll hands the intake signals, never bodies: no payload parsers to load.
    intake ??= new Intake({ runtime, executions: executions(), sources: [], ...(notice ? { notice } : {}) });
    try {
      const { outcomes, errors } = await pollMonitors(
        runtime,
        intake,
        createMonitors(runtime.config.monitors),
      );
      // Every decision that did something is logged; skips and repeats only count.
      for (const outcome of outcomes) {
        if (outcome.decision === 'started' || outcome.decision === 'refused' || outcome.decision === 'error')
          runtime.logger.info('alert decision', { requestId: `monitor:${outcome.source}`, ...outcome });
      }
      for (const error of errors) runtime.logger.warn('monitor could not be read', error);
      return {
        signals: outcomes.length,
        started: outcomes.filter((o) => o.decision === 'started').map((o) => o.executionName ?? o.host),
        refused: outcomes.filter((o) => o.decision === 'refused').length,
        errors,
      };
    } finally {
      publishMetrics();
    }
  });
};

// Nova's services (the intake's own credentials) and the shared start window; refusal
// notices go to the notify function.
export const handler = createHandler(
  functionRuntime({ cloud: cloudDrivers, state: stateDrivers }, withIntakeCloud),
  () => StepFunctionsExecutions.fromEnv(),
  noticeRelay(),
);
