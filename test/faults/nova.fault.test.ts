// Faults in Keystone and Nova, and in the instances themselves: transient errors are
// retried, an evacuation whose answer was lost is never sent twice, what Nova refuses is
// reported, and a recovery cut short by an outage is resumed by the reconciler.
import { afterEach, describe, expect } from 'vitest';
import { formatDisabledReason } from '../../core/disabled-reason.js';
import { reconcile } from '../../core/reconcile.js';
import { faultGroup } from './support/campaign.js';
import { expectRecovered, failHost, kinds } from './support/checks.js';
import { completed, describeRun, type Scene, type SceneOptions, startScene } from './support/scene.js';

const faultCase = faultGroup('nova');
let scene: Scene | null = null;
afterEach(async () => {
  await scene?.close();
  scene = null;
});

async function open(options: SceneOptions = {}): Promise<Scene> {
  scene = await startScene(options);
  return scene;
}

const EVACUATE = { method: 'POST', path: /\/servers\/[^/]+\/action$/, body: /"evacuate"/ };

/** The usual case: compute-1 with three instances fails, `inject` adds the fault, the recovery must complete. */
async function recoversDespite(
  c: Parameters<Parameters<typeof faultCase>[1]>[0],
  options: SceneOptions,
  inject: (s: Scene) => void,
) {
  const s = await open(options);
  c.witness(s.evidence);
  const servers = failHost(s, 'compute-1');
  inject(s);
  const run = await s.recover('compute-1');
  expectRecovered(s, servers, 'compute-1');
  return { s, run, actual: describeRun(run), completed: Number(completed(run)) };
}

describe('Keystone and Nova faults', () => {
  faultCase(
    {
      name: 'keystone-token-revoked-mid-run',
      fault: 'every Keystone token revoked right after the power-off',
      expected: 're-authenticates once on the 401, every instance recovered once',
      completions: 1,
    },
    async (c) => {
      const r = await recoversDespite(c, {}, (s) => s.after('powerOff', () => s.sim.revokeTokens()));
      const issued = r.s.sim.state.counters.tokensIssued;
      expect(issued).toBeGreaterThanOrEqual(2);
      return { actual: `${r.actual}; ${issued} tokens issued`, completed: r.completed };
    },
  );

  faultCase(
    {
      name: 'keystone-tokens-expire-repeatedly',
      fault: 'every token invalidated every 100 ms for the whole run',
      expected: 'each 401 answered by a new token, every instance recovered once',
      completions: 1,
    },
    async (c) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const r = await recoversDespite(c, {}, (s) => {
          timer = setInterval(() => s.sim.revokeTokens(), 100);
        });
        return {
          actual: `${r.actual}; ${r.s.sim.state.counters.tokensIssued} tokens issued`,
          completed: r.completed,
        };
      } finally {
        clearInterval(timer);
      }
    },
  );

  faultCase(
    {
      name: 'nova-500-services',
      fault: 'GET os-services answers 500 three times',
      expected: 'Cloud.Transient retried, every instance recovered once',
      completions: 1,
    },
    async (c) => {
      const r = await recoversDespite(c, {}, (s) => s.sim.failNext('GET', /\/os-services$/, 500, 3));
      return { actual: r.actual, completed: r.completed };
    },
  );

  faultCase(
    {
      name: 'nova-500-server-actions',
      fault: 'the first four server actions (lock, evacuate) answer 500',
      expected: 'retried, every instance evacuated exactly once',
      completions: 1,
    },
    async (c) => {
      const r = await recoversDespite(c, {}, (s) => s.sim.failNext('POST', /\/action$/, 500, 4));
      return { actual: r.actual, completed: r.completed };
    },
  );

  faultCase(
    {
      name: 'nova-503-listing-servers',
      fault: 'GET servers/detail answers 503 twice',
      expected: 'SelectInstances retried, every instance recovered once',
      completions: 1,
    },
    async (c) => {
      const r = await recoversDespite(c, {}, (s) => s.sim.failNext('GET', /\/servers\/detail$/, 503, 2));
      return { actual: r.actual, completed: r.completed };
    },
  );

  faultCase(
    {
      name: 'nova-evacuate-timeout',
      fault: 'the first two evacuate calls hang (never reach Nova); the driver gives up after 1 s',
      expected: 'retried after the timeout, every instance evacuated exactly once',
      completions: 1,
    },
    async (c) => {
      const r = await recoversDespite(c, { novaProxy: true }, (s) =>
        s.proxy?.add({ ...EVACUATE, times: 2, action: { kind: 'hang' } }),
      );
      expect(r.s.proxy?.hits.filter((h) => h.fault === 'hang')).toHaveLength(2);
      return { actual: `${r.actual}; 2 evacuate calls timed out`, completed: r.completed };
    },
  );

  faultCase(
    {
      name: 'nova-evacuate-answer-lost',
      fault: 'Nova accepts the first two evacuations but the answers are lost',
      expected: 'the retry finds them rebuilding and does not evacuate again',
      completions: 1,
    },
    async (c) => {
      const r = await recoversDespite(c, { novaProxy: true }, (s) =>
        s.proxy?.add({ ...EVACUATE, times: 2, action: { kind: 'drop-answer' } }),
      );
      expect(r.s.proxy?.hits.filter((h) => h.fault === 'drop-answer')).toHaveLength(2);
      return { actual: `${r.actual}; 2 answers lost, no second evacuate`, completed: r.completed };
    },
  );

  faultCase(
    {
      name: 'nova-force-down-answer-lost',
      fault: 'Nova applies forced_down but the answer is lost',
      expected: 'the retry sees the service marked for this incident and leaves it; recovered',
      completions: 1,
    },
    async (c) => {
      const r = await recoversDespite(c, { novaProxy: true }, (s) =>
        s.proxy?.add({ method: 'PUT', path: /\/os-services\//, times: 1, action: { kind: 'drop-answer' } }),
      );
      expect(r.s.sim.state.counters.serviceUpdates).toBe(1);
      return { actual: `${r.actual}; one service update`, completed: r.completed };
    },
  );

  faultCase(
    {
      name: 'nova-400-still-in-use',
      fault:
        'Nova still reports the service up (down 10 s, service_down_time 60 s) and the force-down never lands (answered by a liar)',
      expected:
        'Nova refuses each evacuate with 400 "still in use": instances reported not recovered, none moved',
      completions: 0,
    },
    async (c) => {
      const s = await open({
        novaProxy: true,
        sim: { reportIntervalMs: 1000 },
        recovery: { confirm: { staleAfterSeconds: 5, reportIntervalSeconds: 1 } },
      });
      c.witness(s.evidence);
      const servers = [1, 2].map((i) => s.sim.state.addServer({ host: 'compute-1', name: `db-${i}` }));
      s.sim.state.killCompute('compute-1', { reportedAgoMs: 10_000 });
      const service = s.sim.state.host('compute-1');
      s.proxy?.add({
        method: 'PUT',
        path: /\/os-services\//,
        times: 1,
        action: {
          kind: 'answer',
          status: 200,
          body: {
            service: {
              id: service.serviceId,
              binary: 'nova-compute',
              host: 'compute-1',
              zone: 'nova',
              status: 'disabled',
              state: 'down',
              updated_at: new Date().toISOString(),
              forced_down: true,
              disabled_reason: formatDisabledReason({ incident: 'x', fence: 'simulated', fencedAt: 'now' }),
            },
          },
        },
      });
      const run = await s.recover('compute-1');
      expect(run.outcome.error).toBe('Recovery.Incomplete');
      expect(s.sim.state.counters.evacuateRejected).toBeGreaterThanOrEqual(2);
      for (const server of servers) expect(server).toMatchObject({ host: 'compute-1', locked: false });
      expect(kinds(s)).toEqual(['recovery']);
      expect(s.memory.reports[0]?.instances.every((i) => /still in use/.test(i.reason ?? ''))).toBe(true);
      return {
        actual: `${describeRun(run)}; ${s.sim.state.counters.evacuateRejected} evacuations refused 400`,
        completed: 0,
      };
    },
  );

  faultCase(
    {
      name: 'nova-outage-after-force-down',
      fault: 'Nova lists no servers (503) from MarkHostDown on, until the run fails; then it is back',
      expected:
        'run fails with the host forced down; the reconciler resumes it (power read off), recovered once',
      completions: 1,
    },
    async (c) => {
      const s = await open({ novaProxy: true });
      c.witness(s.evidence);
      const servers = failHost(s, 'compute-1');
      s.proxy?.add({
        method: 'GET',
        path: /\/servers\/detail/,
        times: Number.POSITIVE_INFINITY,
        action: { kind: 'answer', status: 503, body: { error: 'nova-api down' } },
      });
      const first = await s.recover('compute-1');
      expect(first.outcome.status).toBe('FAILED');
      expect(s.sim.state.host('compute-1').forcedDown).toBe(true);
      s.proxy?.clear();
      const report = await reconcile(s.rt, s.executions, { dryRun: false });
      expect(report.hosts[0]).toMatchObject({ action: 'resumed', power: 'off' });
      const [, resumed] = await s.settle();
      expectRecovered(s, servers, 'compute-1');
      expect(s.sim.state.counters.powerOffCalls.get('compute-1')).toBe(1);
      return {
        actual: `first run ${describeRun(first)}; reconciler resumed: ${resumed ? describeRun(resumed) : '?'}`,
        completed: resumed ? Number(completed(resumed)) : 0,
      };
    },
  );
});

describe('instance faults', () => {
  faultCase(
    {
      name: 'instance-stuck-task-state',
      fault: "an instance stuck in task_state 'powering-on' on the dead host",
      expected: 'its state is reset, then it is evacuated once like the others',
      completions: 1,
    },
    async (c) => {
      const r = await recoversDespite(c, {}, (s) => {
        const [first] = [...s.sim.state.servers.values()];
        if (first) first.taskState = 'powering-on';
      });
      return { actual: r.actual, completed: r.completed };
    },
  );

  faultCase(
    {
      name: 'instance-rebuild-never-lands',
      fault: 'rebuilds never finish (held); evacuation timeout 2 s',
      expected:
        'each instance evacuated once, reported not recovered after the timeout, never evacuated again',
      completions: 0,
    },
    async (c) => {
      const s = await open({
        sim: { holdRebuilds: true },
        recovery: { evacuation: { timeoutSeconds: 2, verifyPollMs: 50 } },
      });
      c.witness(s.evidence);
      const servers = failHost(s, 'compute-1', 2);
      const run = await s.recover('compute-1');
      expect(run.outcome.error).toBe('Recovery.Incomplete');
      for (const server of servers) expect(s.sim.state.counters.evacuateAccepted.get(server.id)).toBe(1);
      return { actual: `${describeRun(run)}; ${describeOutcomes(s)}`, completed: 0 };
    },
  );

  faultCase(
    {
      name: 'instance-deleted-mid-run',
      fault: 'one instance deleted while it rebuilds, another before its turn (one evacuation at a time)',
      expected: 'both reported gone, the rest recovered; the run completes',
      completions: 1,
    },
    async (c) => {
      const s = await open({ recovery: { evacuation: { maxConcurrency: 1 } } });
      c.witness(s.evidence);
      const servers = failHost(s, 'compute-1', 4);
      const [rebuilding, , , waiting] = servers;
      let evacuations = 0;
      s.after('evacuate', () => {
        evacuations += 1;
        if (evacuations !== 1) return;
        for (const gone of [rebuilding, waiting]) if (gone) s.sim.state.servers.delete(gone.id);
      });
      const run = await s.recover('compute-1');
      const outcomes = s.memory.reports[0]?.instances.map((i) => i.outcome) ?? [];
      expect(outcomes.filter((o) => o === 'gone')).toHaveLength(2);
      expectRecovered(s, servers.slice(1, 3), 'compute-1');
      return { actual: `${describeRun(run)}; ${describeOutcomes(s)}`, completed: Number(completed(run)) };
    },
  );

  faultCase(
    {
      name: 'instance-locked-by-owner',
      fault: "an instance locked by its owner ('legal hold')",
      expected: "evacuated once with the others; the owner's lock is left as it was",
      completions: 1,
    },
    async (c) => {
      const s = await open();
      c.witness(s.evidence);
      const servers = failHost(s, 'compute-1', 2);
      const held = s.sim.state.addServer({
        host: 'compute-1',
        name: 'held',
        locked: true,
        lockedReason: 'legal hold',
      });
      const run = await s.recover('compute-1');
      expectRecovered(s, servers, 'compute-1');
      expect(held).toMatchObject({ locked: true, lockedReason: 'legal hold', vmState: 'active' });
      expect(held.host).not.toBe('compute-1');
      expect(s.sim.state.counters.evacuateAccepted.get(held.id)).toBe(1);
      return { actual: `${describeRun(run)}; owner lock kept`, completed: Number(completed(run)) };
    },
  );

  faultCase(
    {
      name: 'target-host-fails-during-rebuild',
      fault: 'compute-2, a planned target, dies while the rebuilds are under way',
      expected:
        'rebuilds bound for it find no host (nothing moved); retried once elsewhere; all recovered once',
      completions: 1,
    },
    async (c) => {
      const s = await open({ sim: { holdRebuilds: true } });
      c.witness(s.evidence);
      const servers = failHost(s, 'compute-1', 6);
      let accepted = 0;
      s.after('evacuate', () => {
        accepted += 1;
        if (accepted !== servers.length) return;
        // Once every rebuild is under way (held, as accepted): compute-2 dies, the rebuilds finish.
        setTimeout(() => {
          s.sim.state.killCompute('compute-2', { reportedAgoMs: 120_000 });
          s.sim.state.options.holdRebuilds = false;
          s.sim.state.releaseRebuilds();
        }, 100);
      });
      const run = await s.recover('compute-1');
      const errored = s.sim.state.migrations.filter((m) => m.status === 'error').length;
      expect(errored).toBeGreaterThan(0);
      for (const server of servers) {
        expect(server.host).not.toMatch(/^compute-[12]$/);
        expect(server).toMatchObject({ vmState: 'active', taskState: null, locked: false });
      }
      return {
        actual: `${describeRun(run)}; ${errored} found no host on compute-2 and went elsewhere`,
        completed: Number(completed(run)),
      };
    },
  );

  faultCase(
    {
      name: 'instance-rebuild-fails',
      fault: 'one rebuild fails on the destination (instance ends in ERROR)',
      expected: 'that instance reported NOT recovered, the others recovered; run fails Recovery.Incomplete',
      completions: 0,
    },
    async (c) => {
      const s = await open();
      c.witness(s.evidence);
      const servers = failHost(s, 'compute-1', 2);
      const broken = s.sim.state.addServer({ host: 'compute-1', name: 'broken', failRebuild: true });
      const run = await s.recover('compute-1');
      expect(run.outcome.error).toBe('Recovery.Incomplete');
      expectRecovered(s, servers, 'compute-1');
      expect(broken).toMatchObject({ vmState: 'error', locked: false });
      return { actual: `${describeRun(run)}; ${describeOutcomes(s)}`, completed: 0 };
    },
  );
});

function describeOutcomes(s: Scene): string {
  const counts = new Map<string, number>();
  for (const i of s.memory.reports.at(-1)?.instances ?? [])
    counts.set(i.outcome, (counts.get(i.outcome) ?? 0) + 1);
  return [...counts].map(([outcome, n]) => `${n} ${outcome}`).join(', ');
}
