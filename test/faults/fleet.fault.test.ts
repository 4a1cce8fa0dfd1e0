// Faults across the fleet: several hosts failing at once, more than the mass-failure
// threshold, a slow cascade, Nova blind to every host, a burst beyond the start rate (also
// across several webhook containers sharing the DynamoDB state store), and a host as large
// as a recovery takes, on the engine that enforces Step Functions' 256 KiB.
// Alerts go through the real webhook; the budget is intake.protection.maxDownShare (50 %)
// of the six hosts: three.
import { afterEach, describe, expect } from 'vitest';
import type { SimServer } from '../../drivers/cloud/simulated/state.js';
import { MAX_PAYLOAD_BYTES, payloadBytes } from '../../engine/payload-limit.js';
import { createHandler } from '../../functions/webhook.js';
import { startDynalite } from '../support/dynalite.js';
import { lambdaContext, TOKEN, webhookEvent } from '../support/intake.js';
import { alertmanagerPayload } from '../support/intake-samples.js';
import { faultGroup } from './support/campaign.js';
import { expectRecovered, failHost } from './support/checks.js';
import { completed, describeRun, type Scene, type SceneOptions, startScene } from './support/scene.js';

const faultCase = faultGroup('fleet');
let scene: Scene | null = null;
afterEach(async () => {
  await scene?.close();
  scene = null;
});

async function open(options: SceneOptions = {}): Promise<Scene> {
  scene = await startScene({ hosts: 6, ...options });
  return scene;
}

const alertFor = (hosts: string[]) => alertmanagerPayload(hosts.map((host) => ({ host })));

function reasons(body: Record<string, unknown>): string {
  const counts = new Map<string, number>();
  for (const alert of (body.outcomes ?? []) as { reason: string }[])
    counts.set(alert.reason, (counts.get(alert.reason) ?? 0) + 1);
  return [...counts].map(([r, n]) => `${n} ${r}`).join(', ');
}

describe('fleet faults', () => {
  faultCase(
    {
      name: 'two-hosts-at-once',
      fault: 'compute-1 and compute-2 fail together (one notification for both)',
      expected: 'two recoveries; nothing lands on the other failed host; each instance evacuated once',
      completions: 2,
    },
    async (c) => {
      const s = await open();
      c.witness(s.evidence);
      const one = failHost(s, 'compute-1');
      const two = failHost(s, 'compute-2');
      const answer = await s.post(alertFor(['compute-1', 'compute-2']));
      const runs = await s.settle();
      expectRecovered(s, one, 'compute-1');
      expectRecovered(s, two, 'compute-2');
      for (const server of [...one, ...two]) expect(server.host).not.toMatch(/^compute-[12]$/);
      return {
        actual: `${reasons(answer.body)}; ${runs.filter(completed).length} recovered`,
        completed: runs.filter(completed).length,
      };
    },
  );

  faultCase(
    {
      name: 'more-hosts-than-threshold',
      fault: '4 of 6 hosts fail at once',
      expected: 'mass failure: nothing started or fenced; admins told once',
      completions: 0,
    },
    async (c) => {
      const s = await open();
      c.witness(s.evidence);
      const hosts = ['compute-1', 'compute-2', 'compute-3', 'compute-4'];
      for (const host of hosts) failHost(s, host, 1);
      const first = await s.post(alertFor(hosts));
      const again = await s.post(alertFor(hosts));
      expect(s.sfn.startCalls).toBe(0);
      expect(s.sim.state.counters.powerOffCalls.size).toBe(0);
      expect(s.memory.reports.map((r) => r.kind)).toEqual(['mass-failure']);
      return { actual: `${reasons(first.body)}, then ${reasons(again.body)}; 1 notice`, completed: 0 };
    },
  );

  faultCase(
    {
      name: 'at-threshold',
      fault: '3 of 6 hosts fail at once (50 %, the limit)',
      expected: 'three recoveries (the limit is "more than 50 %"); three hosts fenced',
      completions: 3,
    },
    async (c) => {
      const s = await open();
      c.witness(s.evidence);
      const hosts = ['compute-1', 'compute-2', 'compute-3'];
      const servers = new Map(hosts.map((h) => [h, failHost(s, h, 2)]));
      const answer = await s.post(alertFor(hosts));
      const runs = await s.settle();
      for (const [host, list] of servers) expectRecovered(s, list, host);
      return { actual: `${reasons(answer.body)}`, completed: runs.filter(completed).length };
    },
  );

  faultCase(
    {
      name: 'slow-cascade',
      fault: 'hosts fail one after another; each recovered before the next fails; a 4th fails',
      expected: 'three recoveries; the 4th is refused (forced-down hosts count): never beyond the budget',
      completions: 3,
    },
    async (c) => {
      const s = await open();
      c.witness(s.evidence);
      const recovered: [string, SimServer[]][] = [];
      for (const host of ['compute-1', 'compute-2', 'compute-3']) {
        recovered.push([host, failHost(s, host, 2)]);
        await s.post(alertFor([host]));
        await s.settle();
      }
      failHost(s, 'compute-4', 2);
      const fourth = await s.post(alertFor(['compute-4']));
      const runs = await s.settle();
      for (const [host, list] of recovered) expectRecovered(s, list, host);
      expect(s.sim.state.host('compute-4').power).toBe('on');
      return {
        actual: `3 recovered one by one; compute-4: ${reasons(fourth.body)}`,
        completed: runs.filter(completed).length,
      };
    },
  );

  faultCase(
    {
      name: 'nova-sees-every-host-stale',
      fault:
        'every compute service stops reporting at once (Nova or its message bus is broken, not the hosts)',
      expected: 'refused as all-stale: nothing started, nothing fenced',
      completions: 0,
    },
    async (c) => {
      const s = await open();
      c.witness(s.evidence);
      for (const host of s.sim.state.hosts.keys()) failHost(s, host, 1);
      const answer = await s.post(alertFor(['compute-1']));
      expect(s.sfn.startCalls).toBe(0);
      expect(s.sim.state.counters.powerOffCalls.size).toBe(0);
      return { actual: reasons(answer.body), completed: 0 };
    },
  );

  faultCase(
    {
      name: 'start-rate-limit',
      fault: '3 hosts of 8 fail at once; at most 2 recoveries may start per window',
      expected: 'two recoveries, the third refused (rate-limited) and notified',
      completions: 2,
    },
    async (c) => {
      const s = await open({ hosts: 8, intake: { protection: { maxStartsPerWindow: 2 } } });
      c.witness(s.evidence);
      const hosts = ['compute-1', 'compute-2', 'compute-3'];
      for (const host of hosts) failHost(s, host, 1);
      const answer = await s.post(alertFor(hosts));
      const runs = await s.settle();
      expect(s.sfn.started).toHaveLength(2);
      expect(s.memory.reports.some((r) => r.kind === 'mass-failure' || r.cause.includes('rate'))).toBe(true);
      return { actual: reasons(answer.body), completed: runs.filter(completed).length };
    },
  );

  faultCase(
    {
      name: 'multi-container-storm-default-limit',
      fault:
        '18 of 40 hosts fail; one alert per host, all at once, spread over 4 webhook containers sharing the DynamoDB state store (dynalite); default start limit (10 per 600 s)',
      expected:
        'exactly 10 recoveries across the containers, the other 8 refused rate-limited; admins told once',
      completions: 10,
      timeoutMs: 120_000,
    },
    async (c) => {
      const s = await open({ hosts: 40 });
      c.witness(s.evidence);
      const dynamo = await startDynalite();
      try {
        const containers = Array.from({ length: 4 }, () =>
          createHandler({
            runtime: async () => s.rt,
            executions: () => s.executions,
            env: { FAULTS_WEBHOOK_TOKEN: TOKEN },
            stateStore: () => dynamo.store(),
          }),
        );
        const hosts = Array.from({ length: 18 }, (_, i) => `compute-${2 * i + 1}`);
        const servers = new Map(hosts.map((host) => [host, failHost(s, host, 1)]));
        const answers = await Promise.all(
          hosts.map(async (host, i) => {
            const container = containers[i % containers.length] as (typeof containers)[number];
            const result = await container(webhookEvent(JSON.stringify(alertFor([host]))), lambdaContext);
            return JSON.parse(result.body ?? '{}') as { outcomes: { host: string; reason: string }[] };
          }),
        );
        const runs = await s.settle();
        const outcomes = answers.flatMap((a) => a.outcomes);
        const started = outcomes.filter((o) => o.reason === 'started').map((o) => o.host);
        expect(started).toHaveLength(10);
        expect(outcomes.filter((o) => o.reason === 'rate-limited')).toHaveLength(8);
        expect(s.sfn.started).toHaveLength(10);
        for (const host of started) expectRecovered(s, servers.get(host) as SimServer[], host);
        expect(s.memory.reports.filter((r) => r.cause.includes('(rate-limited)'))).toHaveLength(1);
        return {
          actual: `${started.length} started, 8 rate-limited across 4 containers; ${runs.filter(completed).length} recovered`,
          completed: runs.filter(completed).length,
        };
      } finally {
        await dynamo.close();
      }
    },
  );

  faultCase(
    {
      name: 'mass-hang-before-nova-knows',
      fault:
        '4 of 6 hosts hang at once; one alert per host arrives at the hang, while Nova still reports them all up',
      expected:
        'four recoveries start and wait for Nova; at the moment of fencing the fleet gate sees 4 of 6 silent: nothing fenced, admins told once',
      completions: 0,
    },
    async (c) => {
      // Reports every 500 ms; stale after 2 s. The hung hosts' last reports are up to one interval apart.
      const s = await open({
        sim: { reportIntervalMs: 500 },
        recovery: { confirm: { staleAfterSeconds: 2, reportIntervalSeconds: 0.5 } },
      });
      c.witness(s.evidence);
      const hosts = ['compute-1', 'compute-2', 'compute-3', 'compute-4'];
      hosts.forEach((host, i) => {
        s.sim.state.addServer({ host, name: `${host}-vm` });
        s.sim.state.killCompute(host, { reportedAgoMs: i * 120 });
      });
      const answers = [];
      for (const host of hosts) answers.push(await s.post(alertFor([host])));
      expect(s.sfn.started).toHaveLength(4); // Nova agreed with none of them yet
      const runs = await s.settle();
      expect(runs.map((r) => r.outcome.error)).toEqual(Array(4).fill('Recovery.Refused'));
      expect(s.sim.state.counters.powerOffCalls.size).toBe(0);
      expect(s.sim.state.migrations).toEqual([]);
      expect(s.memory.reports.map((r) => r.kind)).toEqual(['mass-failure']);
      return {
        actual: `${answers.map((a) => reasons(a.body)).join(', ')}; ${runs.length} Recovery.Refused at the fence; 1 notice`,
        completed: 0,
      };
    },
  );

  faultCase(
    {
      name: 'thousand-instances-long-host-names',
      fault:
        'a host with 1000 instances fails; every host name is a 40-character FQDN (Step Functions holds at most 256 KiB per state; the engine enforces it)',
      expected:
        'one recovery, every state within 256 KiB (293 KiB before): each instance evacuated once, summarized and reported',
      completions: 1,
      timeoutMs: 300_000,
    },
    async (c) => {
      const hosts = [1, 2, 3, 4].map((i) => `compute-${i}.rack-07.dc-eu-west.example.org`.padEnd(40, 'x'));
      const s = await open({
        sim: { hosts, evacuateMs: 5, hostRamMb: 4_000_000, hostVcpus: 10_000, hostDiskGb: 100_000 },
        recovery: {
          evacuation: { maxConcurrency: 40, verifyPollMs: 10, verifyBudgetSeconds: 5, timeoutSeconds: 120 },
        },
      });
      c.witness(s.evidence);
      const host = hosts[0] as string;
      const servers = failHost(s, host, 1000);
      const run = await s.recover(host);
      expect(run.outcome.error).toBeNull();
      expectRecovered(s, servers, host);
      expect(s.memory.reports.map((r) => r.kind)).toEqual(['recovery']);
      const finalState = payloadBytes(run.outcome.output);
      expect(finalState).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
      return {
        actual: `${describeRun(run)}; final state ${(finalState / 1024).toFixed(0)} KiB of 256`,
        completed: [run].filter(completed).length,
      };
    },
  );
});
