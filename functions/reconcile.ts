// Scheduled reconciler (EventBridge): finds hosts freezer-dr took down whose recovery is
// not running and resumes or reports them, and repairs or reports instances a cut-short
// recovery left locked or rebuilding. The CLI runs core/reconcile.ts directly
// (`freezer-dr reconcile [--dry-run]`).
import middy from '@middy/core';
import { type ExecutionsApi, StepFunctionsExecutions } from '../core/executions.js';
import { publishMetrics } from '../core/metrics.js';
import { type ReconcileReport, reconcile } from '../core/reconcile.js';
import type { RuntimeProvider } from '../core/runtime.js';
import * as z from '../core/zod.js';
import { cloudDrivers } from '../drivers/cloud/registry.js';
import { fencerDrivers } from '../drivers/fencer/registry.js';
import { notifierDrivers } from '../drivers/notifier/registry.js';
import { functionRuntime } from './lib/function-runtime.js';

/** A scheduled event carries EventBridge's fields; `{"dryRun": true}` as a test event reports only. */
const input = z.looseObject({ dryRun: z.optional(z.boolean()) });

/**
 * Retry, or two runs at once: it never powers a host (a resumed run's FenceHost finds the
 * power off and leaves it), starts at most one execution per incident (a fixed name Step
 * Functions refuses twice), and unlocks only instances no running execution owns; a
 * second run finds the first one's resumptions running and its unlocks done.
 */
export const createHandler = (rt: RuntimeProvider, executions: () => ExecutionsApi) =>
  middy<unknown, ReconcileReport>().handler(async (event) => {
    const parsed = input.safeParse(event ?? {});
    const dryRun = parsed.success && parsed.data.dryRun === true;
    try {
      return await reconcile(await rt(), executions(), { dryRun });
    } finally {
      publishMetrics();
    }
  });

export const handler = createHandler(
  functionRuntime({ cloud: cloudDrivers, fencer: fencerDrivers, notifiers: notifierDrivers }),
  () => StepFunctionsExecutions.fromEnv(),
);
