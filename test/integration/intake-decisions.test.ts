// The decision for each alert, against the SIMULATED cloud: confirm in Nova, skip what is
// not ours to recover, refuse (fail closed, notify once) when the picture looks like a
// mass failure, a blind observer, a start storm or a pause; one execution per incident.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import type { RetryingNotifier } from '../../core/deliver-report.js';
import { formatDisabledReason } from '../../core/disabled-reason.js';
import { executionName } from '../../core/executions.js';
import { SnapshotReader } from '../../core/intake/snapshot.js';
import { MemoryStateStore } from '../../core/intake/state-store.js';
import { createHandler } from '../../functions/webhook.js';
import { fakeExecutions } from '../support/fake-sfn.js';
import { type IntakeRig, lambdaContext, startIntakeRig, webhookEvent } from '../support/intake.js';
import { alertmanagerPayload } from '../support/intake-samples.js';

let rig: IntakeRig;
let dir: string | null = null;
afterEach(async () => {
  await rig?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

type Outcome = {
  host: string;
  decision: string;
  reason: string;
  executionName: string | null;
  detail: string;
};
const outcomes = (r: { body: Record<string, unknown> }) => r.body.outcomes as Outcome[];
const down = (host: string, reportedAgoMs = 120_000) => rig.sim.state.killCompute(host, { reportedAgoMs });
const alertFor = (...hosts: string[]) => alertmanagerPayload(hosts.map((host) => ({ host })));
const ours = formatDisabledReason({ incident: 'x', fence: 'simulated', fencedAt: '2026-01-01T00:00:00Z' });

describe('per-host decisions', () => {
  it('starts the hosts of one request side by side, not one StartExecution after another', async () => {
    rig = await startIntakeRig();
    for (const host of ['compute-1', 'compute-2', 'compute-3']) down(host);
    // Each StartExecution is held until all three have arrived (or, if they never do, a
    // moment later): started one after another, at most one is ever in flight.
    const send = rig.sfn.send.bind(rig.sfn);
    let inFlight = 0;
    let most = 0;
    let allThere: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => {
      allThere = resolve;
    });
    rig.sfn.send = async (command: unknown) => {
      if (!(command instanceof StartExecutionCommand)) return send(command);
      inFlight += 1;
      most = Math.max(most, inFlight);
      if (inFlight === 3) allThere();
      await Promise.race([arrived, new Promise((resolve) => setTimeout(resolve, 50))]);
      inFlight -= 1;
      return send(command);
    };
    const r = await rig.post(alertFor('compute-1', 'compute-2', 'compute-3'));
    expect(outcomes(r).map((o) => o.decision)).toEqual(['started', 'started', 'started']);
    expect(most).toBe(3);
  });

  it('starts at the first alert whatever Nova says yet, and names the witnesses that agree', async () => {
    rig = await startIntakeRig();
    down('compute-2');
    down('compute-3', 40_000); // still "up" for Nova (service_down_time 60 s) but silent > 30 s
    const r = await rig.post(alertFor('compute-1', 'compute-2', 'compute-3'));
    expect(outcomes(r).map((o) => [o.host, o.decision])).toEqual([
      ['compute-1', 'started'],
      ['compute-2', 'started'],
      ['compute-3', 'started'],
    ]);
    expect(outcomes(r)[0]?.detail).toMatch(/is up and reported \d+ s ago.*waits for Nova to agree/);
    expect(outcomes(r)[2]?.detail).toMatch(/stale after 30 s/);
    expect(outcomes(r).map((o) => (o as { channels?: string }).channels)).toEqual([
      expect.stringMatching(/^alert \(alertmanager\); Nova: not yet/),
      'alert (alertmanager) + nova-down',
      'alert (alertmanager) + nova-stale',
    ]);
    type Input = { host: string; channels: { channel: string; source: string }[] };
    const inputs = rig.sfn.started.map((s) => JSON.parse(s.input ?? '{}') as Input);
    const channelsOf = (host: string) =>
      (inputs.find((i) => i.host === host)?.channels ?? []).map((c) => `${c.channel}/${c.source}`);
    expect(channelsOf('compute-1')).toEqual(['alert/alertmanager']);
    expect(channelsOf('compute-2')).toEqual(['alert/alertmanager', 'nova-down/nova']);
    expect(channelsOf('compute-3')).toEqual(['alert/alertmanager', 'nova-stale/nova']);
  });

  it('skips forced-down, freezer-dr-disabled, operator maintenance, unknown and out-of-fleet hosts', async () => {
    rig = await startIntakeRig({ hosts: 8, intake: { fleet: ['compute-[1-6]'] } });
    for (const host of ['compute-1', 'compute-2', 'compute-3', 'compute-7']) down(host);
    Object.assign(rig.sim.state.host('compute-1'), {
      forcedDown: true,
      status: 'disabled',
      disabledReason: ours,
    });
    Object.assign(rig.sim.state.host('compute-2'), { status: 'disabled', disabledReason: ours });
    Object.assign(rig.sim.state.host('compute-3'), {
      status: 'disabled',
      disabledReason: 'RAM replacement, ticket 4711',
    });
    const r = await rig.post(alertFor('compute-1', 'compute-2', 'compute-3', 'compute-7', 'compute-99'));
    expect(outcomes(r).map((o) => [o.host, o.decision, o.reason])).toEqual([
      ['compute-1', 'skipped', 'forced-down'],
      ['compute-2', 'skipped', 'awaiting-restore'],
      ['compute-3', 'skipped', 'maintenance'],
      ['compute-7', 'skipped', 'not-in-fleet'],
      ['compute-99', 'skipped', 'unknown-host'],
    ]);
    expect(outcomes(r)[2]?.detail).toContain('RAM replacement');
    expect(rig.sfn.startCalls).toBe(0);
    expect(rig.notifier.reports).toEqual([]);
  });

  it('skips a host that already has a running recovery under another incident', async () => {
    rig = await startIntakeRig();
    down('compute-4');
    rig.sfn.executions.set(executionName('compute-4', 'earlier'), {
      name: executionName('compute-4', 'earlier'),
      arn: 'arn',
      input: '{}',
      status: 'RUNNING',
      startDate: new Date(),
    });
    const r = await rig.post(alertFor('compute-4'));
    expect(outcomes(r)[0]).toMatchObject({ decision: 'skipped', reason: 'running-recovery' });
  });

  it('logs one decision line per alert and records the alert in the execution input', async () => {
    rig = await startIntakeRig();
    down('compute-5');
    await rig.post(
      alertmanagerPayload([{ host: 'compute-5', fingerprint: 'fp-5' }, { host: 'compute-1' }, {}]),
    );
    const lines = rig.decisions();
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({
      level: 'INFO',
      host: 'compute-5',
      source: 'alertmanager',
      fingerprint: 'fp-5',
      decision: 'started',
      requestId: 'test-request',
    });
    const input = JSON.parse(rig.sfn.started[0]?.input ?? '{}');
    expect(input.alert).toMatchObject({ source: 'alertmanager', fingerprint: 'fp-5' });
    expect(input.cause).toMatch(/NovaComputeDown firing.*Nova reports nova-compute on compute-5 down/);
  });
});

describe('exactly one execution per host incident', () => {
  it('one start per host across containers, even when the host reports between their reads and Step Functions lags', async () => {
    rig = await startIntakeRig();
    const r = rig;
    // Container 2 shares the state store but its ListExecutions does not show container 1's start yet.
    const { api } = fakeExecutions();
    (api as unknown as { client: unknown }).client = r.sfn;
    const lagging = {
      start: api.start.bind(api),
      listRunning: async () => [],
      hasEnded: api.hasEnded.bind(api),
    };
    const second = createHandler({
      runtime: async () => r.rt,
      executions: () => lagging,
      env: r.env,
      stateStore: () => r.rt.state,
    });
    const first = await r.post(alertFor('compute-1')); // a false alarm: compute-1 is up
    r.sim.state.host('compute-1').lastReport = Date.now() + 10_000; // it reports again: a new updated_at
    const event = webhookEvent(JSON.stringify(alertFor('compute-1')));
    const answer = await second(event, lambdaContext);
    const [outcome] = JSON.parse(answer.body ?? '{}').outcomes as Outcome[];
    expect(outcomes(first)[0]?.decision).toBe('started');
    expect(outcome).toMatchObject({ decision: 'skipped', reason: 'running-recovery' });
    expect(outcome?.executionName).not.toBe(outcomes(first)[0]?.executionName); // a new incident key
    expect(r.sfn.started).toHaveLength(1);
  });

  it('maps repeats to the same execution name: in one group, across requests, across containers', async () => {
    rig = await startIntakeRig();
    down('compute-2');
    const first = await rig.post(
      alertmanagerPayload([{ host: 'compute-2' }, { instance: 'compute-2:9100' }]),
    );
    expect(outcomes(first).map((o) => o.decision)).toEqual(['started', 'started']);
    const name = outcomes(first)[0]?.executionName;
    const again = await rig.post(alertFor('compute-2'));
    expect(outcomes(again)[0]).toMatchObject({ decision: 'already-handled', executionName: name });
    // While it runs, a second container (its own memory) sees it in ListExecutions and
    // calls nothing; once it has closed (say fencing failed and the admins were told),
    // StartExecution refuses the name: the incident is not retried behind their backs.
    const other = createHandler({
      runtime: async () => rig.rt,
      executions: () => fakeFor(rig),
      env: rig.env,
    });
    const whileRunning = await other(webhookEvent(JSON.stringify(alertFor('compute-2'))), lambdaContext);
    expect(JSON.parse(whileRunning.body ?? '{}').outcomes[0]).toMatchObject({ decision: 'already-handled' });
    expect(rig.sfn.startCalls).toBe(1);
    rig.sfn.finish(name ?? '', 'FAILED');
    const res = await other(webhookEvent(JSON.stringify(alertFor('compute-2'))), lambdaContext);
    expect(JSON.parse(res.body ?? '{}').outcomes[0]).toMatchObject({
      decision: 'already-handled',
      executionName: name,
    });
    expect(rig.sfn.started).toHaveLength(1);
    expect(rig.sfn.startCalls).toBe(2);
  });
});

/** Another StepFunctionsExecutions over the same fake service. */
function fakeFor(r: IntakeRig) {
  const { api } = fakeExecutions();
  (api as unknown as { client: unknown }).client = r.sfn;
  return api;
}

describe('mass-failure protection (fail closed, notify once)', () => {
  it('starts nothing when more than half the fleet is down, counting forced-down hosts, and notifies once', async () => {
    rig = await startIntakeRig({ hosts: 6 });
    Object.assign(rig.sim.state.host('compute-1'), {
      forcedDown: true,
      status: 'disabled',
      disabledReason: ours,
    });
    down('compute-1');
    for (const host of ['compute-2', 'compute-3', 'compute-4']) down(host);
    for (let i = 0; i < 3; i += 1) {
      const r = await rig.post(alertFor('compute-2', 'compute-3', 'compute-4'));
      expect(r.status).toBe(202);
      expect(outcomes(r).map((o) => o.reason)).toEqual(['mass-failure', 'mass-failure', 'mass-failure']);
    }
    expect(rig.sfn.startCalls).toBe(0);
    expect(rig.notifier.reports).toHaveLength(1);
    expect(rig.notifier.reports[0]).toMatchObject({ kind: 'mass-failure' });
    expect(rig.notifier.reports[0]?.cause).toMatch(/4 of 6 fleet hosts down \(67%, 1 already forced down\)/);
    expect(rig.notifier.reports[0]?.cause).toContain('compute-2, compute-3, compute-4');
  });

  it('tries again on the next refusal when no notifier could deliver the first notice', async () => {
    rig = await startIntakeRig({ hosts: 4 });
    for (const host of ['compute-1', 'compute-2', 'compute-3']) down(host);
    let fail = true;
    const attempts: string[] = [];
    const flaky: RetryingNotifier = {
      name: 'flaky',
      retry: { attempts: 1 },
      notify: async (report) => {
        attempts.push(report.kind);
        if (fail) throw new Error('SMTP down');
      },
    };
    rig.rt.notifiers.splice(0, rig.rt.notifiers.length, flaky);
    await rig.post(alertFor('compute-1'));
    fail = false;
    await rig.post(alertFor('compute-1'));
    await rig.post(alertFor('compute-1'));
    expect(attempts).toEqual(['mass-failure', 'mass-failure']);
  });

  it('answers the sender without waiting for a slow notifier, decisions already logged', async () => {
    rig = await startIntakeRig({ hosts: 4, intake: { notifyWaitMs: 200 } });
    for (const host of ['compute-1', 'compute-2', 'compute-3']) down(host);
    let release: () => void = () => undefined;
    const slow: RetryingNotifier = {
      name: 'slow',
      retry: { attempts: 1 },
      notify: () =>
        new Promise<void>((resolve) => {
          release = resolve;
        }),
    };
    rig.rt.notifiers.splice(0, rig.rt.notifiers.length, slow);
    // The notifier never answers until released: an answer at all proves nobody waited for it.
    const r = await rig.post(alertFor('compute-1'));
    expect(outcomes(r)[0]?.reason).toBe('mass-failure');
    expect(rig.decisions()).toHaveLength(1);
    expect(rig.lines.some((l) => l.includes('refusal notice still being delivered'))).toBe(true);
    release();
  });

  it('at exactly the threshold (3 of 6) still recovers', async () => {
    rig = await startIntakeRig({ hosts: 6 });
    for (const host of ['compute-1', 'compute-2', 'compute-3']) down(host);
    const r = await rig.post(alertFor('compute-1', 'compute-2', 'compute-3'));
    expect(outcomes(r).map((o) => o.decision)).toEqual(['started', 'started', 'started']);
  });

  it('refuses when every service looks stale at once (the observer is the one cut off)', async () => {
    rig = await startIntakeRig({ hosts: 4, intake: { protection: { maxDownShare: 1 } } });
    for (const host of rig.hosts) down(host, 45_000);
    const r = await rig.post(alertFor('compute-1'));
    expect(outcomes(r)[0]).toMatchObject({ decision: 'refused', reason: 'all-stale' });
    expect(rig.notifier.reports.map((n) => n.kind)).toEqual(['mass-failure']);
    expect(rig.notifier.reports[0]?.cause).toMatch(/every compute service looks down or stale/);
  });

  it('caps starts per window; repeats of a started incident do not use up the cap', async () => {
    rig = await startIntakeRig({
      hosts: 10,
      intake: { protection: { maxStartsPerWindow: 2, windowSeconds: 600 } },
    });
    for (const host of ['compute-1', 'compute-2', 'compute-3']) down(host);
    expect(outcomes(await rig.post(alertFor('compute-1')))[0]?.decision).toBe('started');
    expect(outcomes(await rig.post(alertFor('compute-1')))[0]?.decision).toBe('already-handled');
    expect(outcomes(await rig.post(alertFor('compute-2')))[0]?.decision).toBe('started');
    const third = await rig.post(alertFor('compute-3', 'compute-3'));
    expect(outcomes(third).map((o) => o.reason)).toEqual(['rate-limited', 'rate-limited']);
    await rig.post(alertFor('compute-3'));
    expect(rig.sfn.started.map((e) => e.name.split('--')[0])).toEqual(['compute-1', 'compute-2']);
    expect(rig.notifier.reports).toHaveLength(1);
    expect(rig.notifier.reports[0]?.cause).toMatch(/2 recoveries already started within 600 s/);
  });

  it('counts running executions that other containers started towards the cap', async () => {
    rig = await startIntakeRig({ hosts: 10, intake: { protection: { maxStartsPerWindow: 1 } } });
    down('compute-1');
    rig.sfn.executions.set('compute-9--elsewhere', {
      name: 'compute-9--elsewhere',
      arn: 'arn',
      input: '{}',
      status: 'RUNNING',
      startDate: new Date(),
    });
    expect(outcomes(await rig.post(alertFor('compute-1')))[0]?.reason).toBe('rate-limited');
  });
});

describe('pause switch', () => {
  it.each([
    ['config', { pause: { paused: true } }, {}],
    ['environment', {}, { FREEZER_DR_PAUSED: 'true' }],
  ])('paused by %s: alerts recorded, nothing started, admins told once', async (_by, intake, env) => {
    rig = await startIntakeRig({ intake, env });
    down('compute-1');
    for (let i = 0; i < 2; i += 1) {
      const r = await rig.post(alertFor('compute-1'));
      expect(outcomes(r)[0]).toMatchObject({ decision: 'refused', reason: 'paused' });
    }
    expect(rig.decisions()).toHaveLength(2);
    expect(rig.sfn.startCalls).toBe(0);
    expect(rig.notifier.reports.map((n) => n.kind)).toEqual(['paused']);
  });

  it('paused while a flag file exists, resumed when it is removed', async () => {
    dir = mkdtempSync(join(tmpdir(), 'freezer-dr-pause-'));
    const file = join(dir, 'paused');
    writeFileSync(file, '');
    rig = await startIntakeRig({ intake: { pause: { file } } });
    down('compute-1');
    expect(outcomes(await rig.post(alertFor('compute-1')))[0]?.detail).toContain(`pause file ${file} exists`);
    rmSync(file);
    expect(outcomes(await rig.post(alertFor('compute-1')))[0]?.decision).toBe('started');
  });
});

describe('when a dependency fails', () => {
  it('answers 503 (so Alertmanager retries) and starts nothing when Nova cannot be read', async () => {
    rig = await startIntakeRig();
    down('compute-1');
    rig.sim.failNext('GET', /os-services/, 503, 1);
    const r = await rig.post(alertFor('compute-1'));
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('10');
    expect(outcomes(r)[0]).toMatchObject({ decision: 'error', reason: 'cloud-unavailable' });
    expect(rig.sfn.startCalls).toBe(0);
    expect(rig.decisions()).toHaveLength(1);
    expect(outcomes(await rig.post(alertFor('compute-1')))[0]?.decision).toBe('started');
  });

  it('answers 503 when StartExecution fails, and the retry starts exactly one', async () => {
    rig = await startIntakeRig();
    down('compute-1');
    rig.sfn.failNextStarts = 1;
    expect((await rig.post(alertFor('compute-1'))).status).toBe(503);
    expect(outcomes(await rig.post(alertFor('compute-1')))[0]?.decision).toBe('started');
    expect(outcomes(await rig.post(alertFor('compute-1')))[0]?.decision).toBe('already-handled');
    expect(rig.sfn.started).toHaveLength(1);
  });
});

describe('MemoryStateStore', () => {
  it('claims once per TTL and keeps a sliding window of slots', async () => {
    let now = 0;
    const store = new MemoryStateStore(() => now);
    expect(await store.claimOnce('k', 100)).toBe(true);
    expect(await store.claimOnce('k', 100)).toBe(false);
    now = 100;
    expect(await store.claimOnce('k', 100)).toBe(true);
    const a = await store.takeSlot('b', 2, 1000);
    const b = await store.takeSlot('b', 2, 1000);
    expect(await store.takeSlot('b', 2, 1000)).toBeNull();
    await store.releaseSlot('b', b as string);
    expect(await store.takeSlot('b', 2, 1000, 2)).toBeNull();
    expect(await store.takeSlot('b', 2, 1000)).not.toBeNull();
    expect(a).not.toBeNull();
    now = 1200;
    expect(await store.takeSlot('b', 2, 1000)).not.toBeNull();
  });
});

describe('SnapshotReader', () => {
  it('serves a slightly old read while one refresh runs, and fails closed once it is too old', async () => {
    let now = 0;
    let loads = 0;
    let fail = false;
    const reader = new SnapshotReader(
      async () => {
        loads += 1;
        if (fail) throw new Error('Nova unreachable');
        return { services: [], running: [] };
      },
      1000,
      () => now,
    );
    const first = await reader.get();
    await Promise.all([reader.get(), reader.get()]);
    expect(loads).toBe(1);
    now = 1500; // past the TTL: the old read is served, one refresh starts
    fail = true;
    expect(await reader.get()).toBe(first);
    expect(await reader.get()).toBe(first);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(loads).toBe(2);
    now = 3500; // older than three TTLs: the caller waits for Nova and sees it fail
    await expect(reader.get()).rejects.toThrow('Nova unreachable');
    fail = false;
    expect((await reader.get()).readAt).toBe(3500);
  });
});
