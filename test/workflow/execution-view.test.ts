// What `executions show`, `watch` and the page say about a recovery the real workflow ran
// (issue 15, item 11): instances counted across restart-priority waves, the plan and the
// capacity check in words, a rebuilding instance's planned host, and instance names in the
// CLI, looked up once through the cloud as the page does.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { showCommand, showLines, watchLine } from '../../cli/commands/executions.js';
import { instanceNames, type NameSource } from '../../core/instance-names.js';
import { destination, recoveryTimeline } from '../../core/recovery-timeline.js';
import type { SimOptions } from '../../drivers/cloud/simulated/state.js';
import { loadDefinition } from '../../engine/definition.js';
import { ExecutionStore } from '../../engine/execution-store.js';
import { renderExecution } from '../../engine/executions-page.js';
import { stateMachineArn } from '../../engine/local-engine.js';
import { executionArn, LocalExecutions } from '../../engine/local-executions.js';
import { type LocalServer, startLocalServer } from '../../engine/local-server.js';
import { type Harness, recoveryInput, startHarness } from '../support/harness.js';

const TOP_LEVEL = new Set(Object.keys(loadDefinition().States as object));

interface Setup {
  h: Harness;
  dir: string;
  store: ExecutionStore;
  executions: LocalExecutions;
  server: LocalServer | null;
}
const setups: Setup[] = [];
const savedEnv = { ...process.env };

afterEach(async () => {
  for (const s of setups.splice(0)) {
    await s.server?.close();
    await s.executions.idle();
    s.store.close();
    await s.h.close();
    rmSync(s.dir, { recursive: true, force: true });
  }
  process.env = { ...savedEnv };
  vi.restoreAllMocks();
});

async function setup(sim: SimOptions, options: { server?: boolean } = {}): Promise<Setup> {
  const h = await startHarness({ sim: { hosts: ['compute-1', 'compute-2', 'compute-3'], ...sim } });
  const dir = mkdtempSync(join(tmpdir(), 'freezer-dr-view-'));
  const store = new ExecutionStore(dir);
  const executions = new LocalExecutions({ store, runtime: async () => h.rt, retryIntervalMs: 10 });
  const server = options.server
    ? await startLocalServer({
        host: '127.0.0.1',
        port: 0,
        monitors: false,
        runtime: h.rt,
        executions,
        webhookEnv: { FREEZER_DR_WEBHOOK_TOKEN: 'view-test-token-0123456789abcdef' },
      })
    : null;
  const s = { h, dir, store, executions, server };
  setups.push(s);
  return s;
}

function start(s: Setup, host: string, name: string) {
  s.h.sim.state.killCompute(host, { reportedAgoMs: 120_000 });
  s.executions.start({ stateMachineArn, name, input: JSON.stringify(recoveryInput(host)) });
}

const read = (s: Setup, name: string) => ({
  described: s.executions.describe({ executionArn: executionArn(name) }),
  timeline: recoveryTimeline(s.executions.fullHistory(name), TOP_LEVEL),
});

async function until<T>(look: () => T, done: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = look();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const detailOf = (timeline: ReturnType<typeof recoveryTimeline>, stage: string) =>
  timeline.stages.find((s) => s.name === stage)?.detail;

describe('the execution as show, watch and the page tell it', () => {
  it('counts instances, not waves, and reads the plan and the capacity shortfall', async () => {
    const s = await setup({ evacuateMs: 100 }, { server: true });
    const { state } = s.h.sim;
    for (const name of ['web-1', 'web-2', 'web-3'])
      state.addServer({ host: 'compute-1', name, metadata: { 'ha:priority': '1' } });
    state.addServer({ host: 'compute-1', name: 'db-1' });
    state.addServer({ host: 'compute-1', name: 'cache-1', failRebuild: true });
    state.addServer({ host: 'compute-1', name: 'big-1', vcpus: 64 });
    start(s, 'compute-1', 'waves');
    const { described, timeline } = await until(
      () => read(s, 'waves'),
      (r) => r.described.status !== 'RUNNING',
    );
    expect(described.status).toBe('FAILED'); // cache-1's rebuild fails: Recovery.Incomplete

    expect(detailOf(timeline, 'EvacuateInstances')).toBe('5 instances in 2 waves: 4 recovered, 1 failed');
    expect(detailOf(timeline, 'PlanTargets')).toMatch(
      /^spread: compute-2 x\d, compute-3 x\d, 2 waves by priority, 1 without room$/,
    );
    expect(detailOf(timeline, 'CapacityCheck')).toMatch(
      /^shortfall: 1 instance without room, the admins are told before evacuating: big-1 \(.+\)$/,
    );
    expect(detailOf(timeline, 'NotifyCapacityShortfall')).toBe('1 delivered, 0 failed');

    // `executions show` in this process, against the server: names come from its cloud.
    const where = s.server?.url ?? '';
    const config = join(s.dir, 'freezer-dr.yaml');
    writeFileSync(
      config,
      'cloud: { driver: simulated }\nfencer: { driver: simulated }\nnotifiers: [{ driver: log }]\n',
    );
    Object.assign(process.env, { FREEZER_DR_CONFIG: config, FREEZER_DR_URL: where });
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out.push(String(chunk));
      return true;
    });
    expect(await showCommand('waves')).toBe(1);
    const shown = out.join('');
    expect(shown).toMatch(/✓ EvacuateInstances .* 5 instances in 2 waves: 4 recovered, 1 failed/);
    for (const instance of timeline.instances) {
      const name = state.servers.get(instance.id)?.name ?? '';
      expect(shown).toMatch(new RegExp(`\\n  ${name} +${instance.id}  compute-1 `));
    }
    expect(shown).not.toContain('names unavailable');
    // Then the timeline as a text chart: a bar per stage and per instance, by name, and the moments.
    expect(shown).toMatch(/\ntimeline \(seconds from the alert; one column [\d.]+ s\):\n/);
    expect(shown).toMatch(/\n {2}EvacuateInstances +█+ +[\d.]+–[\d.]+ s\n/);
    expect(shown).toMatch(/\n {2}web-1 +▓[▓▒]*✓ +[\d.]+–[\d.]+ s recovered\n/);
    expect(shown).toMatch(/\n {2}cache-1 +▓[▓▒]*✗ +[\d.]+–[\d.]+ s failed\n/);
    expect(shown).toMatch(/\n {2}moments +A *P *E *V\n/);
    expect(shown).toMatch(/A alert received \+[\d.]+ s {3}P power verified off \+[\d.]+ s/);
  });

  it('shows a rebuilding instance on its planned host until Nova says where it landed', async () => {
    const s = await setup({ evacuateMs: 50, holdRebuilds: true });
    const web = s.h.sim.state.addServer({ host: 'compute-1', name: 'web-1' });
    s.h.sim.state.addServer({ host: 'compute-1', name: 'db-1' });
    start(s, 'compute-1', 'held');
    const held = await until(
      () => read(s, 'held'),
      (r) => r.timeline.instances.length === 2 && r.timeline.instances.every((i) => i.evacuatedAt),
    );
    const names = new Map([[web.id, 'web-1']]);
    for (const instance of held.timeline.instances) {
      expect(instance.to).toBeNull();
      expect(instance.target).toMatch(/^compute-[23]$/);
      expect(destination(instance)).toEqual({ host: instance.target, planned: true });
      expect(watchLine(instance, names)).toContain(`compute-1 → ${instance.target} (planned)  rebuilding`);
    }
    const webRow = held.timeline.instances.find((i) => i.id === web.id);
    expect(watchLine(webRow as never, names)).toContain(`• web-1 ${web.id}  compute-1 →`);
    const page = renderExecution(held.described, held.timeline, names);
    expect(page.match(/compute-[23] <span class="muted">\(planned\)<\/span>/g)).toHaveLength(2);
    expect(detailOf(held.timeline, 'EvacuateInstances')).toBe('0 of 2 instances settled');
    expect(showLines(held.described, held.timeline, { names }).join('\n')).toMatch(
      /web-1 +\S+ +compute-1 +compute-[23] \(planned\) +rebuilding/,
    );

    s.h.sim.state.releaseRebuilds();
    const done = await until(
      () => read(s, 'held'),
      (r) => r.described.status !== 'RUNNING',
    );
    expect(done.described.status).toBe('SUCCEEDED');
    for (const instance of done.timeline.instances) {
      expect(destination(instance)).toEqual({ host: instance.to, planned: false });
      expect(instance.to).toBe(instance.target);
      expect(watchLine(instance, names)).not.toContain('(planned)');
    }
    expect(renderExecution(done.described, done.timeline, names)).not.toContain('(planned)');
  });
});

describe('instance names', () => {
  /** A cloud of `hosts` × `perHost` servers that counts what it is asked. */
  function countingCloud(hosts: string[], perHost: number) {
    const servers = new Map<string, { id: string; name: string; host: string }>();
    hosts.forEach((host, h) => {
      for (let i = 0; i < perHost; i++) {
        const id = `id-${h}-${i}`;
        servers.set(id, { id, name: `vm-${h}-${i}`, host });
      }
    });
    const calls = { lists: 0, reads: 0 };
    let failReads = false;
    const cloud: NameSource = {
      listServersOnHost: async (host) => {
        calls.lists++;
        return [...servers.values()].filter((s) => s.host === host);
      },
      getServer: async (id) => {
        calls.reads++;
        if (failReads) throw new Error('nova unavailable');
        return servers.get(id);
      },
    };
    return { servers, calls, cloud, failReads: (on: boolean) => (failReads = on) };
  }

  it('are looked up once: a list per host involved, a read for what none of them holds', async () => {
    const { servers, calls, cloud, failReads } = countingCloud(['compute-1', 'compute-2', 'compute-3'], 400);
    const namesOf = instanceNames(cloud);
    // 1000 instances of compute-1..3 moving to compute-2..3; one landed elsewhere, one deleted.
    const instances = [...servers.values()].slice(0, 1000).map((s) => ({
      id: s.id,
      from: s.host,
      to: null,
      target: s.host === 'compute-3' ? 'compute-2' : 'compute-3',
    }));
    const moved = servers.get('id-0-5') as { host: string };
    moved.host = 'compute-9';
    servers.delete('id-0-6');
    failReads(true);
    const first = await namesOf(instances);
    expect(calls.lists).toBe(3);
    expect(calls.reads).toBe(2);
    expect(first.get('id-2-199')).toBe('vm-2-199');
    expect(first.has('id-0-5')).toBe(false);

    failReads(false);
    const second = await namesOf(instances);
    expect(second.get('id-0-5')).toBe('vm-0-5'); // a failed read is asked again
    expect(second.has('id-0-6')).toBe(false);
    const after = { ...calls };
    await namesOf(instances);
    // Everything known or known deleted: nothing asked again.
    expect(calls).toEqual(after);
  });
});
