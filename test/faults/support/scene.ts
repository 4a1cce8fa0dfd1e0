// One fault case's world, in this process: the SIMULATED cloud on 127.0.0.1, the real
// workflow on the embedded engine, the real webhook (each StartExecution runs on that
// engine), and the drivers freezer-dr uses wrapped by a witness that records every power
// reading and power-off and lets a case act right after a given driver call (to make
// something fail mid-run). Nova can be put behind a fault proxy.
import type { Logger } from '@aws-lambda-powertools/logger';
import { parseConfig } from '../../../core/config.js';
import { type ExecutionsApi, executionName } from '../../../core/executions.js';
import type { Intake } from '../../../core/intake/intake.js';
import type { Notifier } from '../../../core/ports.js';
import { OpenStackCloud } from '../../../drivers/cloud/openstack/nova.js';
import { type SimulatedCloud, startSimulatedCloud } from '../../../drivers/cloud/simulated/server.js';
import type { SimOptions } from '../../../drivers/cloud/simulated/state.js';
import { type ExecutionOutcome, LocalEngine } from '../../../engine/local-engine.js';
import { createRuntime, type LocalRuntime } from '../../../engine/runtime.js';
import { createHandler, type WebhookHandler } from '../../../functions/webhook.js';
import { captureLogger } from '../../support/capture-logger.js';
import { type FakeStepFunctions, fakeExecutions } from '../../support/fake-sfn.js';
import { lambdaContext, TOKEN, webhookEvent } from '../../support/intake.js';
import { MemoryNotifier } from '../../support/memory-notifier.js';
import type { Evidence } from './counters.js';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';

type AfterHook = (method: string, args: unknown[]) => void | Promise<void>;

export interface SceneOptions {
  hosts?: number;
  /** Instances per failing host the case adds itself; defaults here only set the cloud. */
  sim?: SimOptions;
  recovery?: Record<string, unknown>;
  intake?: Record<string, unknown>;
  /** The drain section (the host drain's concurrency, timeouts, triggers). */
  drain?: Record<string, unknown>;
  /** The fencer section; the simulated BMCs by default. */
  fencer?: Record<string, unknown>;
  /** Notifier sections besides the in-memory one every scene has. */
  notifiers?: Record<string, unknown>[];
  /** Put Keystone and Nova behind a fault proxy; the cloud driver gives up on a call after cloudTimeoutMs. */
  novaProxy?: boolean;
  cloudTimeoutMs?: number;
  /**
   * Real BMCs decide the power (relay cases): asked right after each evacuation Nova accepts
   * (a fenced host cannot come back on by itself), instead of the simulated BMCs.
   */
  powerTruth?: (host: string) => 'on' | 'off';
}

export interface Run {
  name: string;
  host: string;
  outcome: ExecutionOutcome;
}

export interface Scene {
  sim: SimulatedCloud;
  rt: LocalRuntime;
  engine: LocalEngine;
  memory: MemoryNotifier;
  proxy: FaultProxy | null;
  logger: Logger;
  runs: Run[];
  /** Calls fn after each call of `method` on the cloud or fencer driver has returned. */
  after(method: string, fn: AfterHook): void;
  /** Runs the recovery of one host on the engine (as the webhook would start it). */
  recover(host: string, incident?: string): Promise<Run>;
  /** Runs the drain of one host (as `freezer-dr drain` or a degraded alert would start it). */
  drain(host: string, incident?: string): Promise<Run>;
  /** Drains run so far (degraded alerts, drain()); a drain's hand-over lands in `runs`. */
  drainRuns: Run[];
  drainSfn: FakeStepFunctions;
  /** Posts one webhook request; the executions it starts run on the engine. */
  post(body: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  /** The webhook's intake (what freezer-dr's own monitor feeds). */
  intake(): Promise<Intake>;
  sfn: FakeStepFunctions;
  /** The Step Functions API the webhook and the reconciler use (runs land on this engine). */
  executions: ExecutionsApi;
  /** Waits for every execution started so far. */
  settle(): Promise<Run[]>;
  evidence(): Evidence;
  close(): Promise<void>;
}

export const hostNames = (count: number) => Array.from({ length: count }, (_, i) => `compute-${i + 1}`);

export async function startScene(options: SceneOptions = {}): Promise<Scene> {
  const sim = await startSimulatedCloud({
    hosts: hostNames(options.hosts ?? 4),
    evacuateMs: 60,
    ...options.sim,
  });
  const proxy = options.novaProxy ? await startFaultProxy(sim.url) : null;
  const config = parseConfig({
    cloud: { driver: 'simulated' },
    fencer: options.fencer ?? { driver: 'simulated' },
    notifiers: options.notifiers ?? [],
    recovery: {
      fence: { verifyTimeoutSeconds: 2, pollIntervalMs: 20 },
      evacuation: { verifyPollMs: 20, verifyBudgetSeconds: 1, timeoutSeconds: 20 },
      ...options.recovery,
    },
    intake: {
      auth: { bearer: { env: 'FAULTS_WEBHOOK_TOKEN' }, hmac: null },
      snapshotCacheMs: 0,
      notifyWaitMs: 0,
      ...options.intake,
    },
    drain: { pollSeconds: 1, ...options.drain },
  });
  const { logger } = captureLogger();
  const memory = new MemoryNotifier();
  const base = await createRuntime(config, { simulated: sim, logger });
  const cloud = proxy
    ? new OpenStackCloud(
        { ...sim.connection, auth: { ...sim.connection.auth, auth_url: `${proxy.url}/identity/v3` } },
        { timeoutMs: options.cloudTimeoutMs ?? 1000 },
      )
    : base.cloud;

  const offReads: Evidence['offReads'] = [];
  const poweredOff: string[] = [];
  let truthfullyOn = 0;
  const hooks: { method: string; fn: AfterHook }[] = [];
  const witness = <T extends object>(driver: T): T =>
    new Proxy(driver, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function' || typeof property !== 'string') return value;
        return (...args: unknown[]) => {
          if (property === 'powerOff') poweredOff.push(String(args[0]));
          const source = property === 'evacuate' ? sim.state.servers.get(String(args[0]))?.host : undefined;
          const result = value.apply(target, args);
          if (!(result instanceof Promise)) return result; // describe() and the like
          return result.then(async (resolved) => {
            if (property === 'powerStatus' && resolved === 'off')
              offReads.push({ host: String(args[0]), at: Date.now() });
            if (source && options.powerTruth?.(source) === 'on') truthfullyOn += 1;
            for (const hook of hooks) if (hook.method === property) await hook.fn(property, args);
            return resolved;
          });
        };
      },
    });
  const rt: LocalRuntime = {
    ...base,
    cloud: witness(cloud),
    fencer: witness(base.fencer),
    notifiers: [memory, ...base.notifiers] as Notifier[],
  };
  // Retries and ConfirmHostFailure's waits for Nova shortened; what Nova says is unchanged.
  const engine = new LocalEngine({ runtime: async () => rt, retryIntervalMs: 10, waitMs: 20 });
  const runs: Run[] = [];
  const pending: Promise<Run>[] = [];
  const start = (input: Record<string, unknown>, name: string): Promise<Run> => {
    const done = engine.start(input, name).done.then((outcome) => {
      const run = { name, host: String(input.host), outcome };
      runs.push(run);
      sfn.finish(name, outcome.status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED');
      return run;
    });
    pending.push(done);
    return done;
  };
  const { sfn, api } = fakeExecutions();
  sfn.onStart = (execution) => void start(JSON.parse(execution.input), execution.name);
  // A drain whose host dies hands it over through the same Step Functions API as the intake.
  rt.recoveries = api;
  const drainEngine = new LocalEngine({
    runtime: async () => rt,
    workflow: 'drain',
    retryIntervalMs: 10,
    waitMs: 20,
  });
  const drainRuns: Run[] = [];
  const drains = fakeExecutions();
  const startDrain = (input: Record<string, unknown>, name: string): Promise<Run> => {
    const done = drainEngine.start(input, name).done.then((outcome) => {
      const run = { name, host: String(input.host), outcome };
      drainRuns.push(run);
      drains.sfn.finish(name, outcome.status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED');
      return run;
    });
    pending.push(done);
    return done;
  };
  drains.sfn.onStart = (execution) => void startDrain(JSON.parse(execution.input), execution.name);
  const webhookDeps = () => ({
    runtime: async () => rt,
    executions: () => api,
    drains: () => drains.api,
    env,
  });
  const env = { FAULTS_WEBHOOK_TOKEN: TOKEN };
  let webhook: WebhookHandler | null = null;

  return {
    sim,
    rt,
    engine,
    memory,
    proxy,
    logger,
    runs,
    drainRuns,
    sfn,
    drainSfn: drains.sfn,
    executions: api,
    after: (method, fn) => hooks.push({ method, fn }),
    recover(host, incident = `${host}-fault`) {
      const input = {
        host,
        incident,
        cause: `fault campaign: ${host} down`,
        requestedAt: new Date().toISOString(),
      };
      const name = executionName(host, incident);
      sfn.executions.set(name, {
        name,
        arn: name,
        input: JSON.stringify(input),
        status: 'RUNNING',
        startDate: new Date(),
      });
      return start(input, name);
    },
    drain(host, incident = `drain-${host}-fault`) {
      const input = {
        host,
        incident,
        cause: `fault campaign: ${host} degraded`,
        requestedAt: new Date().toISOString(),
        operator: true,
      };
      const name = executionName(host, incident);
      drains.sfn.executions.set(name, {
        name,
        arn: name,
        input: JSON.stringify(input),
        status: 'RUNNING',
        startDate: new Date(),
      });
      return startDrain(input, name);
    },
    async intake() {
      webhook ??= createHandler(webhookDeps());
      return webhook.intake();
    },
    async post(body) {
      webhook ??= createHandler(webhookDeps());
      const result = await webhook(webhookEvent(JSON.stringify(body)), lambdaContext);
      return { status: result.statusCode ?? 0, body: JSON.parse(result.body ?? '{}') };
    },
    async settle() {
      for (let seen = 0; seen < pending.length; ) {
        const batch = pending.slice(seen);
        seen = pending.length;
        await Promise.all(batch);
      }
      return runs;
    },
    evidence: () => ({
      migrations: sim.state.migrations.map((m) => ({ ...m })),
      acceptedWhilePowerOn: options.powerTruth ? truthfullyOn : sim.state.unsafeEvacuations,
      evacuatedWhileMigrating: sim.state.evacuatedWhileMigrating,
      offReads,
      poweredOff,
      fleet: sim.state.hosts.size,
      maxDownShare: config.intake.protection.maxDownShare,
    }),
    async close() {
      await proxy?.close();
      await sim.close();
    },
  };
}

/** A recovery completed: the run succeeded through Summarize with no instance failed. */
export function completed(run: Run): boolean {
  const summary = (run.outcome.output as { summary?: { failed?: number } } | null)?.summary;
  return run.outcome.status === 'SUCCEEDED' && summary !== undefined && summary.failed === 0;
}

/** A one-line account of a run: status, error, and the summary's message. */
export function describeRun(run: Run): string {
  const summary = (run.outcome.output as { summary?: { message?: string } } | null)?.summary;
  if (run.outcome.status === 'SUCCEEDED') return summary?.message ?? 'SUCCEEDED (nothing to recover)';
  return `${run.outcome.status} ${run.outcome.error ?? ''}`.trim();
}
