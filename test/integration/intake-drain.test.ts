// Degraded alerts through the real webhook handler: what reads as "degraded" in each format
// (never as down), and the drain's own gates (pause, fleet, maintenance, a host already
// down, drains at once, capacity), refusals told once per host; and a down alert for a host
// being drained starts its recovery.
import { afterEach, describe, expect, it } from 'vitest';
import { formatDisabledReason, formatDrainReason } from '../../core/disabled-reason.js';
import { NovaServicesMonitor } from '../../drivers/monitor/nova-services.js';
import { form, type IntakeRig, startIntakeRig } from '../support/intake.js';

let rig: IntakeRig;
afterEach(async () => rig?.close());

const degradedAlert = (
  hosts: string[],
  extra: { labels?: Record<string, string>; alertname?: string } = {},
) => ({
  version: '4',
  groupKey: '{}:{alertname="EccStorm"}',
  status: 'firing',
  alerts: hosts.map((host, i) => ({
    status: 'firing',
    labels: { alertname: extra.alertname ?? 'EccStorm', host, ...(extra.labels ?? {}) },
    annotations: { summary: `corrected ECC errors on ${host}` },
    startsAt: '2026-11-21T08:00:00Z',
    fingerprint: `ecc${i}`,
  })),
});

const decisionsOf = (rig: IntakeRig) => rig.decisions().map((d) => [d.host, d.signal, d.decision, d.reason]);

describe('degraded alerts start drains', () => {
  it('Alertmanager: the freezer_dr_action label, or a configured alertname; a plain firing alert is still a down', async () => {
    rig = await startIntakeRig({ drain: { maxRunning: 2, triggers: { alertnames: ['RaidDegraded'] } } });
    rig.sim.state.addServer({ host: 'compute-1' });
    rig.sim.state.addServer({ host: 'compute-2' });
    await rig.post(degradedAlert(['compute-1'], { labels: { freezer_dr_action: 'drain' } }));
    await rig.post(degradedAlert(['compute-2'], { alertname: 'RaidDegraded' }));
    await rig.post(degradedAlert(['compute-3'], { alertname: 'NovaComputeDown' }));

    expect(decisionsOf(rig)).toEqual([
      ['compute-1', 'degraded', 'started', 'drain-started'],
      ['compute-2', 'degraded', 'started', 'drain-started'],
      ['compute-3', 'down', 'started', 'started'],
    ]);
    expect(rig.drainSfn.started.map((e) => e.name.split('--')[0])).toEqual(['compute-1', 'compute-2']);
    expect(rig.sfn.started.map((e) => e.name.split('--')[0])).toEqual(['compute-3']);
    const input = JSON.parse(rig.drainSfn.started[0]?.input ?? '{}');
    expect(input).toMatchObject({
      host: 'compute-1',
      incident: expect.stringMatching(/^drain-\d{8}T\d{6}Z$/),
    });
    expect(input.cause).toContain('EccStorm');
  });

  it('Nagios: a WARNING or CRITICAL HARD service problem on a configured check; other checks are recorded; a host DOWN is still a recovery', async () => {
    rig = await startIntakeRig({ drain: { triggers: { nagiosServices: ['ECC', 'RAID'] } } });
    const service = (host: string, serviceDesc: string, state: string, stateType = 'HARD') =>
      form({
        NOTIFICATIONTYPE: 'PROBLEM',
        HOSTNAME: host,
        SERVICEDESC: serviceDesc,
        SERVICESTATE: state,
        SERVICESTATETYPE: stateType,
      });
    const contentType = 'application/x-www-form-urlencoded';
    await rig.post(service('compute-1', 'ECC', 'WARNING'), { contentType });
    await rig.post(service('compute-2', 'Disk space', 'CRITICAL'), { contentType });
    await rig.post(service('compute-3', 'RAID', 'CRITICAL', 'SOFT'), { contentType });
    await rig.post(
      form({ NOTIFICATIONTYPE: 'PROBLEM', HOSTNAME: 'compute-4', HOSTSTATE: 'DOWN', HOSTSTATETYPE: 'HARD' }),
      {
        contentType,
      },
    );

    expect(decisionsOf(rig)).toEqual([
      ['compute-1', 'degraded', 'started', 'drain-started'],
      ['compute-2', 'ignored', 'recorded', 'ignored'],
      ['compute-3', 'ignored', 'recorded', 'ignored'],
      ['compute-4', 'down', 'started', 'started'],
    ]);
    expect(rig.drainSfn.started).toHaveLength(1);
    expect(rig.sfn.started).toHaveLength(1);
  });

  it('generic: status degraded', async () => {
    rig = await startIntakeRig();
    await rig.post({
      host: 'compute-5',
      status: 'degraded',
      source: 'smartd',
      reason: 'reallocated sectors',
    });
    expect(decisionsOf(rig)).toEqual([['compute-5', 'degraded', 'started', 'drain-started']]);
  });
});

describe('the drain gates', () => {
  it('paused: refused, and a storm of repeats tells the admins once per host', async () => {
    rig = await startIntakeRig({ intake: { pause: { paused: true } } });
    for (let i = 0; i < 3; i += 1) await rig.post({ host: 'compute-1', status: 'degraded', reason: 'ecc' });
    expect(decisionsOf(rig).map((d) => d[3])).toEqual(['paused', 'paused', 'paused']);
    expect(rig.drainSfn.started).toEqual([]);
    const notices = rig.notifier.reports.filter((r) => r.kind === 'drain-refused');
    expect(notices).toHaveLength(1);
    expect(notices[0]?.cause).toContain('paused');
  });

  it('leaves alone hosts an operator disabled, hosts already down, hosts outside the fleet and hosts it already drained', async () => {
    rig = await startIntakeRig({ intake: { fleet: ['compute-[1-4]'] } });
    const { state } = rig.sim;
    state.host('compute-1').status = 'disabled';
    state.host('compute-1').disabledReason = 'hardware swap';
    state.killCompute('compute-2', { reportedAgoMs: 120_000 });
    state.host('compute-3').status = 'disabled';
    state.host('compute-3').disabledReason = formatDrainReason({ incident: 'drain-1', reason: 'ecc' });
    for (const host of ['compute-1', 'compute-2', 'compute-3', 'compute-5'])
      await rig.post({ host, status: 'degraded', reason: 'ecc' });
    expect(decisionsOf(rig).map((d) => [d[0], d[3]])).toEqual([
      ['compute-1', 'maintenance'],
      ['compute-2', 'host-down'],
      ['compute-3', 'drained'],
      ['compute-5', 'not-in-fleet'],
    ]);
    expect(rig.drainSfn.started).toEqual([]);
    expect(rig.sfn.started).toEqual([]);
  });

  it('at most drain.maxRunning drains at once; a repeat for a host being drained is already handled', async () => {
    rig = await startIntakeRig({ drain: { maxRunning: 1 } });
    await rig.post({ host: 'compute-1', status: 'degraded', reason: 'ecc' });
    await rig.post({ host: 'compute-1', status: 'degraded', reason: 'ecc again' });
    await rig.post({ host: 'compute-2', status: 'degraded', reason: 'raid' });
    expect(decisionsOf(rig).map((d) => [d[0], d[3]])).toEqual([
      ['compute-1', 'drain-started'],
      ['compute-1', 'already-handled'],
      ['compute-2', 'drains-busy'],
    ]);
    expect(rig.drainSfn.started).toHaveLength(1);
    expect(rig.notifier.reports.map((r) => [r.kind, r.host])).toEqual([['drain-refused', 'compute-2']]);
  });

  it('never drains what the hosts left cannot hold: refused and reported, nothing started', async () => {
    rig = await startIntakeRig({ hosts: 2 });
    for (let i = 0; i < 3; i += 1) rig.sim.state.addServer({ host: 'compute-1', ramMb: 16_384 });
    rig.sim.state.addServer({ host: 'compute-2', ramMb: 16_384 });
    await rig.post({ host: 'compute-1', status: 'degraded', reason: 'ecc' });
    expect(decisionsOf(rig).map((d) => d[3])).toEqual(['capacity-short']);
    expect(rig.drainSfn.started).toEqual([]);
    expect(rig.sim.state.host('compute-1').status).toBe('enabled');
    const [notice] = rig.notifier.reports;
    expect(notice?.kind).toBe('drain-refused');
    expect(notice?.cause).toContain('cannot hold');
  });

  it('a down alert for a host being drained starts its recovery: a drain never blocks one', async () => {
    rig = await startIntakeRig();
    await rig.post({ host: 'compute-1', status: 'degraded', reason: 'ecc' });
    // The drain disabled the host; then it dies.
    const host = rig.sim.state.host('compute-1');
    host.status = 'disabled';
    host.disabledReason = formatDrainReason({ incident: 'drain-x', reason: 'ecc' });
    rig.sim.state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    await rig.post({ host: 'compute-1', status: 'down', reason: 'ping lost' });
    expect(decisionsOf(rig).map((d) => [d[1], d[3]])).toEqual([
      ['degraded', 'drain-started'],
      ['down', 'started'],
    ]);
    expect(rig.sfn.started).toHaveLength(1);
  });
});

describe('freezer-dr own poll of Nova', () => {
  it('signals a drained host Nova reports down (its failure is a recovery), never one freezer-dr or an operator already holds', async () => {
    rig = await startIntakeRig();
    const { state } = rig.sim;
    const drained = state.host('compute-1');
    drained.status = 'disabled';
    drained.disabledReason = formatDrainReason({ incident: 'drain-1', reason: 'ecc' });
    const failed = state.host('compute-2');
    failed.status = 'disabled';
    failed.disabledReason = formatDisabledReason({ incident: 'x', fence: 'simulated', fencedAt: 'now' });
    const maintenance = state.host('compute-3');
    maintenance.status = 'disabled';
    maintenance.disabledReason = 'hardware swap';
    for (const host of ['compute-1', 'compute-2', 'compute-3'])
      state.killCompute(host, { reportedAgoMs: 120_000 });
    const signals = await new NovaServicesMonitor(10).poll(rig.rt.cloud);
    expect(signals.map((s) => [s.host, s.state])).toEqual([['compute-1', 'down']]);
  });
});
