// The engine itself dies: the durable local engine runs in its own process
// (test/support/engine-child.ts) and SIGKILLs itself on entering each top-level stage of
// the workflow, or right after a step's side effect (power off, force-down, an evacuation,
// an unlock, a notification) before the step's result is recorded. Started again on the
// same store it re-drives the run from the interrupted stage. Started on an empty store,
// the next alert or the reconciler must pick the incident up. The cloud and the BMCs live
// in this process and outlive every engine.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect } from 'vitest';
import { parseConfig } from '../../core/config.js';
import { executionName, resumedExecutionName } from '../../core/executions.js';
import { MemoryStateStore } from '../../core/intake/state-store.js';
import { reconcile } from '../../core/reconcile.js';
import type { Runtime } from '../../core/runtime.js';
import { OpenStackCloud } from '../../drivers/cloud/openstack/nova.js';
import { type SimulatedCloud, startSimulatedCloud } from '../../drivers/cloud/simulated/server.js';
import type { SimServer } from '../../drivers/cloud/simulated/state.js';
import { SimulatedFencer } from '../../drivers/fencer/simulated.js';
import { loadDefinition } from '../../engine/definition.js';
import { createHandler } from '../../functions/webhook.js';
import { type BmcBridge, startBmcBridge } from '../support/bmc-bridge.js';
import type { EngineChildSpec } from '../support/engine-child.js';
import { type EngineProcess, settled, startEngineProcess } from '../support/engine-process.js';
import { quietLogger } from '../support/harness.js';
import { lambdaContext, TOKEN, webhookEvent } from '../support/intake.js';
import { alertmanagerPayload } from '../support/intake-samples.js';
import { MemoryNotifier } from '../support/memory-notifier.js';
import { faultGroup } from './support/campaign.js';
import type { Evidence } from './support/counters.js';

const faultCase = faultGroup('engine-kill');
const RECOVERY = {
  fence: { verifyTimeoutSeconds: 2, pollIntervalMs: 20 },
  evacuation: { verifyPollMs: 20, verifyBudgetSeconds: 1, timeoutSeconds: 20 },
};
const HOST = 'compute-1';

let sim: SimulatedCloud | null = null;
let bridge: BmcBridge | null = null;
const engines: EngineProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.stop('SIGKILL');
  await bridge?.close();
  await sim?.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  sim = null;
  bridge = null;
});

/** The workflow's top-level Task and Map states on the way to RecoveryComplete, in order. */
function stages(): string[] {
  type State = { Type: string; Next?: string; Default?: string; Choices?: { Next: string }[] };
  const definition = loadDefinition() as { StartAt: string; States: Record<string, State> };
  // Depth first through Next, a Choice's Default, then its branches (never a Catch), no state twice.
  const walk = (name: string, seen: string[]): string[] | null => {
    if (name === 'RecoveryComplete') return seen;
    const state = definition.States[name];
    if (!state || seen.includes(name)) return null;
    const next = [state.Next, state.Default, ...(state.Choices ?? []).map((c) => c.Next)];
    for (const candidate of next) {
      const found = candidate ? walk(candidate, [...seen, name]) : null;
      if (found) return found;
    }
    return null;
  };
  const path = walk(definition.StartAt, []) ?? [];
  return path.filter((name) => ['Task', 'Map'].includes(definition.States[name]?.Type ?? ''));
}

interface World {
  servers: SimServer[];
  spec: EngineChildSpec;
  evidence(): Evidence;
}

async function world(): Promise<World> {
  sim = await startSimulatedCloud({ evacuateMs: 150 });
  bridge = await startBmcBridge(sim);
  const s = sim;
  const b = bridge;
  const servers = [1, 2, 3].map((i) => s.state.addServer({ host: HOST, name: `app-${i}` }));
  s.state.killCompute(HOST, { reportedAgoMs: 120_000 });
  const dir = mkdtempSync(join(tmpdir(), 'freezer-dr-kill-'));
  dirs.push(dir);
  return {
    servers,
    spec: {
      dataDir: dir,
      connection: s.connection,
      bmcUrl: b.url,
      recovery: RECOVERY,
      retryIntervalMs: 10,
      redrive: true,
    },
    evidence: () => ({
      migrations: s.state.migrations.map((m) => ({ ...m })),
      acceptedWhilePowerOn: s.state.unsafeEvacuations,
      offReads: b.calls
        .filter((c) => c.call === 'status' && c.state === 'off')
        .map((c) => ({ host: c.host, at: c.at })),
      poweredOff: b.calls.filter((c) => c.call === 'off').map((c) => c.host),
      fleet: s.state.hosts.size,
      maxDownShare: 0.5,
    }),
  };
}

async function engine(spec: EngineChildSpec): Promise<EngineProcess> {
  const started = await startEngineProcess(spec);
  engines.push(started);
  return started;
}

/** Starts the recovery on an engine told where to die, and waits for it to die there. */
async function killedRun(w: World, kill: EngineChildSpec['kill']): Promise<{ name: string; at: string }> {
  const first = await engine({ ...w.spec, kill });
  const input = {
    host: HOST,
    incident: 'kill-case',
    cause: 'fault campaign',
    requestedAt: new Date().toISOString(),
  };
  const { executionName: name } = await first.executions.start(input);
  const outcome = await Promise.race([
    first.exited.then(() => 'killed'),
    new Promise((resolve) => setTimeout(() => resolve('alive'), 20_000)),
  ]);
  if (outcome !== 'killed')
    throw new Error(`the engine was never killed (${JSON.stringify(kill)}):\n${first.output()}`);
  const at = /engine-child killed (.*)/.exec(first.output())?.[1] ?? '?';
  return { name, at };
}

/** Every instance moved off the host once, running and unlocked; the BMC powered off once. */
function expectRecoveredOnce(w: World): void {
  const s = sim as SimulatedCloud;
  for (const server of w.servers) {
    expect(server.host, server.name).not.toBe(HOST);
    expect(server, server.name).toMatchObject({ vmState: 'active', taskState: null, locked: false });
    expect(s.state.counters.evacuateAccepted.get(server.id), server.name).toBe(1);
  }
  expect(bridge?.calls.filter((c) => c.call === 'off')).toHaveLength(1);
}

const succeededCleanly = (output: string | undefined) => {
  const summary = (JSON.parse(output ?? 'null') as { summary?: { failed?: number } } | null)?.summary;
  return summary !== undefined && summary.failed === 0;
};

/** Kill, restart on the same store, let the re-drive finish. */
async function killAndRedrive(w: World, kill: EngineChildSpec['kill']) {
  const { name, at } = await killedRun(w, kill);
  const second = await engine(w.spec);
  expect(second.redriven.map((r) => r.name)).toEqual([name]);
  const done = await settled(second, name);
  expect(done.status).toBe('SUCCEEDED');
  expectRecoveredOnce(w);
  const from = second.redriven[0]?.from;
  const reports = bridge?.reports.filter((r) => r.kind === 'recovery').length ?? 0;
  return {
    actual: `killed ${at}; re-driven from ${from}: ${done.status}; 1 power-off, ${reports} report${reports === 1 ? '' : 's'}`,
    completed: Number(done.status === 'SUCCEEDED' && succeededCleanly(done.output)),
    reports,
  };
}

describe('engine killed at every top-level stage, restarted on its store', () => {
  for (const stage of stages()) {
    faultCase(
      {
        name: `kill-entering-${stage}`,
        fault: `engine process SIGKILLed as it enters ${stage}`,
        expected: `re-driven from ${stage}; BMC powered off once, each instance evacuated once`,
        completions: 1,
      },
      async (c) => {
        const w = await world();
        c.witness(w.evidence);
        const result = await killAndRedrive(w, { state: stage });
        expect(result.reports).toBe(1);
        return result;
      },
    );
  }
});

describe('engine killed right after a side effect, before its result was recorded', () => {
  const effects: { method: string; nth: number; what: string; reports: number }[] = [
    { method: 'powerOff', nth: 1, what: 'the power-off returned (FenceHost unrecorded)', reports: 1 },
    {
      method: 'updateComputeService',
      nth: 1,
      what: 'Nova forced the host down (MarkHostDown unrecorded)',
      reports: 1,
    },
    { method: 'evacuate', nth: 2, what: 'Nova accepted the 2nd of 3 evacuations', reports: 1 },
    { method: 'unlockServer', nth: 1, what: 'the first instance was verified and unlocked', reports: 1 },
    // Notify is the one step whose re-run repeats its effect: the report is sent again.
    { method: 'notify', nth: 1, what: 'the report was delivered (NotifyRecovery unrecorded)', reports: 2 },
  ];
  for (const effect of effects) {
    faultCase(
      {
        name: `kill-after-${effect.method}`,
        fault: `engine process SIGKILLed right after ${effect.what}`,
        expected: `the step runs again without repeating it${effect.reports > 1 ? ' (the report is sent twice)' : ''}; each instance evacuated once`,
        completions: 1,
      },
      async (c) => {
        const w = await world();
        c.witness(w.evidence);
        const result = await killAndRedrive(w, { after: { method: effect.method, nth: effect.nth } });
        expect(result.reports).toBe(effect.reports);
        return result;
      },
    );
  }
});

describe('engine killed and its executions lost', () => {
  /** The operator's view and the scheduled reconciler's: the cloud's API, the same BMCs. */
  function operatorRuntime(): Runtime {
    const s = sim as SimulatedCloud;
    const config = parseConfig({
      cloud: { driver: 'openstack' },
      fencer: { driver: 'simulated' },
      recovery: RECOVERY,
    });
    return {
      cloud: new OpenStackCloud(s.connection),
      fencer: new SimulatedFencer(s.state),
      notifiers: [new MemoryNotifier()],
      config: { ...config, intake: { ...config.intake, auth: { ...config.intake.auth, hmac: null } } },
      policy: config.recovery,
      state: new MemoryStateStore(),
      logger: quietLogger(),
    };
  }

  faultCase(
    {
      name: 'kill-after-powerOff-store-lost',
      fault:
        'SIGKILL right after the power-off; the engine comes back with an empty store; the monitor alerts again',
      expected:
        'the alert starts the same incident again; FenceHost finds the host off (no second power-off); recovered once',
      completions: 1,
    },
    async (c) => {
      const w = await world();
      c.witness(w.evidence);
      const { at } = await killedRun(w, { after: { method: 'powerOff', nth: 1 } });
      const second = await engine({ ...w.spec, dataDir: mkdtempSync(join(tmpdir(), 'freezer-dr-kill-')) });
      const webhook = createHandler({
        runtime: async () => operatorRuntime(),
        executions: () => second.executions,
        env: { FREEZER_DR_WEBHOOK_TOKEN: TOKEN },
      });
      const answer = await webhook(
        webhookEvent(JSON.stringify(alertmanagerPayload([{ host: HOST }]))),
        lambdaContext,
      );
      const started = (JSON.parse(answer.body ?? '{}') as { started?: string[] }).started ?? [];
      expect(started).toHaveLength(1);
      const done = await settled(second, started[0] as string);
      expect(done.status).toBe('SUCCEEDED');
      expectRecoveredOnce(w);
      return {
        actual: `killed ${at}; re-alerted: ${started[0]} ${done.status}; 1 power-off`,
        completed: Number(succeededCleanly(done.output)),
      };
    },
  );

  faultCase(
    {
      name: 'kill-after-force-down-store-lost',
      fault:
        'SIGKILL entering SelectInstances (fenced, forced down); the engine comes back with an empty store',
      expected:
        'the reconciler finds the host, reads its power (off) and resumes; no second power-off; recovered once',
      completions: 1,
    },
    async (c) => {
      const w = await world();
      c.witness(w.evidence);
      const { at } = await killedRun(w, { state: 'SelectInstances' });
      const second = await engine({ ...w.spec, dataDir: mkdtempSync(join(tmpdir(), 'freezer-dr-kill-')) });
      const report = await reconcile(operatorRuntime(), second.executions, { dryRun: false });
      const resumed = resumedExecutionName(HOST, 'kill-case');
      expect(report.hosts[0]).toMatchObject({ action: 'resumed', executionName: resumed });
      const done = await settled(second, resumed);
      expect(done.status).toBe('SUCCEEDED');
      expectRecoveredOnce(w);
      expect(executionName(HOST, 'kill-case')).not.toBe(resumed);
      return {
        actual: `killed ${at}; reconciler resumed ${resumed}: ${done.status}; 1 power-off`,
        completed: Number(succeededCleanly(done.output)),
      };
    },
  );
});
