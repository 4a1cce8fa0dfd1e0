// Test harness: a SIMULATED cloud on 127.0.0.1, the runtime pointing at it, and the
// embedded engine running the real ASL definition.
import { parseConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { type SimulatedCloud, startSimulatedCloud } from '../../drivers/cloud/simulated/server.js';
import type { SimOptions } from '../../drivers/cloud/simulated/state.js';
import { EngineExecutions } from '../../engine/engine-executions.js';
import { LocalEngine } from '../../engine/local-engine.js';
import { createRuntime, type LocalRuntime } from '../../engine/runtime.js';
import { MemoryNotifier } from './memory-notifier.js';

export interface Harness {
  sim: SimulatedCloud;
  rt: LocalRuntime;
  engine: LocalEngine;
  /** The host drain on the same runtime; it hands dead hosts to `recoveries` (on `engine`). */
  drain: LocalEngine;
  recoveries: EngineExecutions;
  notifier: MemoryNotifier;
  close(): Promise<void>;
}

export const quietLogger = () => {
  process.env.POWERTOOLS_LOG_LEVEL = process.env.TEST_LOG_LEVEL ?? 'SILENT';
  return createLogger('freezer-dr-test');
};

export async function startHarness(
  options: {
    sim?: SimOptions;
    recovery?: Record<string, unknown>;
    /** The fencer section; the simulated BMCs by default. */
    fencer?: Record<string, unknown>;
    intake?: Record<string, unknown>;
    drain?: Record<string, unknown>;
    retryIntervalMs?: number;
    /** Every Wait state's time in ms (ConfirmHostFailure's waits for Nova). */
    waitMs?: number;
  } = {},
): Promise<Harness> {
  const sim = await startSimulatedCloud({ evacuateMs: 50, ...options.sim });
  const config = parseConfig({
    cloud: { driver: 'simulated' },
    fencer: options.fencer ?? { driver: 'simulated' },
    notifiers: [{ driver: 'log' }],
    recovery: {
      fence: { verifyTimeoutSeconds: 2, pollIntervalMs: 20 },
      evacuation: { verifyPollMs: 20, verifyBudgetSeconds: 2 },
      ...options.recovery,
    },
    ...(options.intake ? { intake: options.intake } : {}),
    ...(options.drain ? { drain: options.drain } : {}),
  });
  const notifier = new MemoryNotifier();
  const rt = await createRuntime(config, { simulated: sim, logger: quietLogger(), notifiers: [notifier] });
  const engine = new LocalEngine({
    runtime: async () => rt,
    retryIntervalMs: options.retryIntervalMs ?? 10,
    waitMs: options.waitMs ?? 20,
  });
  const drain = new LocalEngine({
    runtime: async () => rt,
    workflow: 'drain',
    retryIntervalMs: options.retryIntervalMs ?? 10,
    waitMs: options.waitMs ?? 20,
  });
  const recoveries = new EngineExecutions(engine);
  rt.recoveries = recoveries;
  return { sim, rt, engine, drain, recoveries, notifier, close: () => sim.close() };
}

export const drainInput = (host: string, incident = `drain-${host}-test`) => ({
  host,
  incident,
  cause: `test: ${host} degraded (corrected ECC storm)`,
  requestedAt: new Date().toISOString(),
});

export const recoveryInput = (host: string, incident = `${host}-test`) => ({
  host,
  incident,
  cause: `test: ${host} down`,
  requestedAt: new Date().toISOString(),
});
