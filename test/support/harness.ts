// Test harness: a SIMULATED cloud on 127.0.0.1, the runtime pointing at it, and the
// embedded engine running the real ASL definition.
import { parseConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { type SimulatedCloud, startSimulatedCloud } from '../../drivers/cloud/simulated/server.js';
import type { SimOptions } from '../../drivers/cloud/simulated/state.js';
import { LocalEngine } from '../../engine/local-engine.js';
import { createRuntime, type LocalRuntime } from '../../engine/runtime.js';
import { MemoryNotifier } from './memory-notifier.js';

export interface Harness {
  sim: SimulatedCloud;
  rt: LocalRuntime;
  engine: LocalEngine;
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
  });
  const notifier = new MemoryNotifier();
  const rt = await createRuntime(config, { simulated: sim, logger: quietLogger(), notifiers: [notifier] });
  const engine = new LocalEngine({
    runtime: async () => rt,
    retryIntervalMs: options.retryIntervalMs ?? 10,
    waitMs: options.waitMs ?? 20,
  });
  return { sim, rt, engine, notifier, close: () => sim.close() };
}

export const recoveryInput = (host: string, incident = `${host}-test`) => ({
  host,
  incident,
  cause: `test: ${host} down`,
  requestedAt: new Date().toISOString(),
});
