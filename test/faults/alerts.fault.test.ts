// Faults in the alerts: duplicates, several monitors at once, out of order, resolved then
// firing again, flapping. Each goes through the real webhook (functions/webhook.ts), whose
// executions run on the embedded engine: at most one recovery per host incident, and
// nothing powered off for a host Nova does not see down.
import { afterEach, describe, expect } from 'vitest';
import { pollMonitors } from '../../core/monitor.js';
import { createMonitors } from '../../drivers/monitor/registry.js';
import { alertmanagerPayload, nagiosJson, zabbixBody } from '../support/intake-samples.js';
import { faultGroup } from './support/campaign.js';
import { expectRecovered, failHost, kinds } from './support/checks.js';
import { completed, describeRun, type Scene, type SceneOptions, startScene } from './support/scene.js';

const faultCase = faultGroup('alerts');
let scene: Scene | null = null;
afterEach(async () => {
  await scene?.close();
  scene = null;
});

async function open(options: SceneOptions = {}): Promise<Scene> {
  scene = await startScene({ hosts: 6, ...options });
  return scene;
}

const firing = (host: string) => alertmanagerPayload([{ host }]);
const resolved = (host: string) => alertmanagerPayload([{ host }], 'resolved');

/** Decisions the webhook answered with, counted by decision. */
function decisions(bodies: Record<string, unknown>[]): string {
  const counts = new Map<string, number>();
  for (const body of bodies) {
    for (const alert of (body.outcomes ?? []) as { decision: string }[]) {
      counts.set(alert.decision, (counts.get(alert.decision) ?? 0) + 1);
    }
  }
  return [...counts].map(([d, n]) => `${n} ${d}`).join(', ');
}

describe('alert faults', () => {
  faultCase(
    {
      name: 'duplicate-alerts',
      fault: '30 identical Alertmanager notifications for compute-1, all at once',
      expected: 'one execution; the rest answered already-handled; recovered once',
      completions: 1,
    },
    async (c) => {
      const s = await open();
      c.witness(s.evidence);
      const servers = failHost(s, 'compute-1');
      const answers = await Promise.all(Array.from({ length: 30 }, () => s.post(firing('compute-1'))));
      const runs = await s.settle();
      expect(s.sfn.started).toHaveLength(1);
      expectRecovered(s, servers, 'compute-1');
      return {
        actual: `${s.sfn.started.length} execution (${decisions(answers.map((a) => a.body))}); ${describeRun(runs[0] as never)}`,
        completed: runs.filter(completed).length,
      };
    },
  );

  faultCase(
    {
      name: 'duplicate-across-monitors',
      fault: 'Alertmanager, Nagios and Zabbix all report compute-1 down',
      expected: 'one execution for the incident; recovered once',
      completions: 1,
    },
    async (c) => {
      const s = await open();
      c.witness(s.evidence);
      const servers = failHost(s, 'compute-1');
      const answers = await Promise.all([
        s.post(firing('compute-1')),
        s.post(nagiosJson('compute-1')),
        s.post(zabbixBody('compute-1', '1')),
      ]);
      const runs = await s.settle();
      expect(s.sfn.started).toHaveLength(1);
      expectRecovered(s, servers, 'compute-1');
      return {
        actual: `${s.sfn.started.length} execution (${decisions(answers.map((a) => a.body))})`,
        completed: runs.filter(completed).length,
      };
    },
  );

  faultCase(
    {
      name: 'reordered-alerts',
      fault:
        "compute-1's resolved notification arrives before its firing one; a stale firing arrives after the recovery",
      expected: 'resolved is recorded only; firing starts one recovery; the late one starts nothing',
      completions: 1,
    },
    async (c) => {
      const s = await open();
      c.witness(s.evidence);
      const servers = failHost(s, 'compute-1');
      const early = await s.post(resolved('compute-1'));
      expect(s.sfn.started).toHaveLength(0);
      const fire = await s.post(firing('compute-1'));
      const runs = await s.settle();
      const late = await s.post(firing('compute-1'));
      expect(s.sfn.started).toHaveLength(1);
      expectRecovered(s, servers, 'compute-1');
      return {
        actual: `resolved: ${decisions([early.body])}; firing: ${decisions([fire.body])}; late firing: ${decisions([late.body])}`,
        completed: runs.filter(completed).length,
      };
    },
  );

  faultCase(
    {
      name: 'resolved-then-firing',
      fault: 'firing, resolved and firing again for compute-1 while its recovery runs',
      expected: 'the resolve never stops the recovery; the second firing starts nothing new',
      completions: 1,
    },
    async (c) => {
      const s = await open();
      c.witness(s.evidence);
      const servers = failHost(s, 'compute-1');
      const bodies = [];
      for (const body of [firing('compute-1'), resolved('compute-1'), firing('compute-1')])
        bodies.push((await s.post(body)).body);
      const runs = await s.settle();
      expect(s.sfn.started).toHaveLength(1);
      expectRecovered(s, servers, 'compute-1');
      return { actual: `1 execution (${decisions(bodies)})`, completed: runs.filter(completed).length };
    },
  );

  faultCase(
    {
      name: 'flapping-alerts-healthy-host',
      fault: 'a monitor flaps firing/resolved 10 times for compute-2, which keeps reporting to Nova',
      expected:
        'the first firing starts a recovery that waits for Nova; Nova sees reports, so HostNotDown: nothing fenced, admins told once',
      completions: 0,
    },
    async (c) => {
      // compute-2 reports every 200 ms, so the wait ends after two reports.
      const s = await open({
        sim: { reportIntervalMs: 200 },
        recovery: { confirm: { reportIntervalSeconds: 0.2 } },
      });
      c.witness(s.evidence);
      s.sim.state.addServer({ host: 'compute-2' });
      const bodies = [];
      for (let i = 0; i < 10; i += 1)
        bodies.push((await s.post(i % 2 ? resolved('compute-2') : firing('compute-2'))).body);
      const runs = await s.settle();
      expect(runs.length).toBeGreaterThanOrEqual(1);
      for (const run of runs) expect(run.outcome.status).toBe('SUCCEEDED');
      for (const run of runs)
        expect((run.outcome.output as { confirm: { status: string } }).confirm.status).toBe('not-down');
      expect(s.sim.state.counters.powerOffCalls.size).toBe(0);
      expect(s.sim.state.migrations).toEqual([]);
      expect(kinds(s)).toEqual(['not-confirmed']);
      return {
        actual: `${runs.length} run(s), each HostNotDown (${decisions(bodies)}); nothing fenced; 1 notice`,
        completed: 0,
      };
    },
  );

  faultCase(
    {
      name: 'flapping-alerts-down-host',
      fault: 'compute-3 is down; its alert flaps firing/resolved 10 times during the recovery',
      expected: 'one recovery, not disturbed by the flapping; recovered once',
      completions: 1,
    },
    async (c) => {
      const s = await open();
      c.witness(s.evidence);
      const servers = failHost(s, 'compute-3');
      const bodies = [];
      for (let i = 0; i < 10; i += 1)
        bodies.push((await s.post(i % 2 ? resolved('compute-3') : firing('compute-3'))).body);
      const runs = await s.settle();
      expect(s.sfn.started).toHaveLength(1);
      expectRecovered(s, servers, 'compute-3');
      return { actual: `1 execution (${decisions(bodies)})`, completed: runs.filter(completed).length };
    },
  );

  faultCase(
    {
      name: 'one-alert-at-the-hang',
      fault:
        'compute-1 hangs; its monitor sends one alert at once (never repeated) while Nova still reports it up',
      expected: 'started at once; fenced only after Nova sees the service stale; recovered once',
      completions: 1,
    },
    async (c) => {
      const s = await open({
        sim: { reportIntervalMs: 500 },
        recovery: { confirm: { staleAfterSeconds: 2, reportIntervalSeconds: 0.5 } },
      });
      c.witness(s.evidence);
      const servers = [1, 2, 3].map((i) => s.sim.state.addServer({ host: 'compute-1', name: `app-${i}` }));
      s.sim.state.killCompute('compute-1');
      const answer = await s.post(firing('compute-1'));
      const [run] = await s.settle();
      expectRecovered(s, servers, 'compute-1');
      if (!run) throw new Error('no execution ran');
      type Output = { confirm: { checks: number; channels: { channel: string }[] } };
      const { confirm } = run.outcome.output as Output;
      expect(confirm.channels.map((ch) => ch.channel)).toEqual(['alert', 'nova-stale']);
      return {
        actual: `${decisions([answer.body])}; confirmed after ${confirm.checks} reads of Nova; ${describeRun(run)}`,
        completed: completed(run) ? 1 : 0,
      };
    },
  );

  faultCase(
    {
      name: 'alert-lost-poll-recovers',
      fault: "compute-2 dies and its only alert is lost; freezer-dr's nova-services poll runs twice",
      expected: 'the poll starts one recovery when Nova reports the service down; recovered once',
      completions: 1,
    },
    async (c) => {
      const s = await open();
      c.witness(s.evidence);
      const servers = failHost(s, 'compute-2');
      const intake = await s.intake();
      const first = await pollMonitors(s.rt, intake, createMonitors(s.rt.config.monitors));
      const second = await pollMonitors(s.rt, intake, createMonitors(s.rt.config.monitors));
      const [run] = await s.settle();
      expectRecovered(s, servers, 'compute-2');
      expect(s.sfn.started).toHaveLength(1);
      return {
        actual: `poll: ${first.outcomes.map((o) => o.decision).join(', ')}, then ${second.outcomes.map((o) => o.decision).join(', ')}; ${run ? describeRun(run) : 'no run'}`,
        completed: run && completed(run) ? 1 : 0,
      };
    },
  );
});
