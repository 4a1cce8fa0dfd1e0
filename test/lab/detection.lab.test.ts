// Detection on the real lab, with the default recovery.confirm settings: a false alarm
// (the host keeps reporting to Nova) ends in HostNotDown with nothing powered and one
// notice however often it repeats; freezer-dr's own nova-services poll, with no alert at
// all, refuses a mass failure and a paused intake, then recovers the host, and an alert
// for the same incident starts nothing more.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restoreHost } from '../../core/restore-host.js';
import { type Alertmanager, startAlertmanager } from '../support/alertmanager.js';
import { bmcPower, computeScript, labCloud } from './lab-env.js';
import { LabNova, until } from './lab-nova.js';
import { ADMINS, type LabStack, startLabStack, WEBHOOK_TOKEN } from './lab-stack.js';

const nova = new LabNova(labCloud());
let stack: LabStack | null = null;
let am: Alertmanager | null = null;

beforeAll(async () => {
  await nova.healLab();
  stack = await startLabStack({ monitors: [{ driver: 'nova-services', intervalSeconds: 2 }] });
  am = await startAlertmanager({
    webhookUrl: stack.webhookUrl,
    token: WEBHOOK_TOKEN,
    groupWait: '1s',
    groupInterval: '5m',
    repeatInterval: '4h',
  });
}, 600_000);

afterAll(async () => {
  await am?.stop();
  await stack?.close();
  await nova.healLab();
}, 600_000);

const ended = (s: LabStack, name: string) =>
  until(
    `${name} to end`,
    async () => {
      const described = await s.describe(name);
      return described.status !== 'RUNNING' ? described : null;
    },
    300_000,
    500,
  );

describe('detection on the real lab', () => {
  it('a false alarm (the host keeps reporting) ends HostNotDown, nothing powered, one notice for two alarms', async () => {
    const s = stack as LabStack;
    const host = 'compute-2';
    await am?.postAlerts([
      {
        labels: { alertname: 'NovaComputeDown', host, severity: 'critical' },
        annotations: { summary: `${host} is not answering the monitor` },
        startsAt: new Date().toISOString(),
        endsAt: new Date(Date.now() + 900_000).toISOString(),
      },
    ]);
    const first = await until(
      'the alert to start a run',
      async () => s.decisions(host).find((d) => d.decision === 'started'),
      30_000,
      200,
    );
    const one = await ended(s, first.executionName as string);
    expect(one.status).toBe('SUCCEEDED');
    const output = JSON.parse(one.output ?? '{}') as { confirm: { status: string; evidence: string } };
    expect(output.confirm.status).toBe('not-down');
    expect(output.confirm.evidence).toMatch(/reported 2 times after the alert/);

    // A second monitor raises the same false alarm: another run, another HostNotDown, no second notice.
    const again = await s.postAlert(host, 'second-monitor');
    const [outcome] = again.body.outcomes as { decision: string; executionName: string }[];
    expect(outcome?.decision).toBe('started');
    expect((await ended(s, outcome?.executionName as string)).status).toBe('SUCCEEDED');

    expect(await bmcPower(host)).toBe('on');
    expect(await nova.service(host)).toMatchObject({ forcedDown: false, status: 'enabled', state: 'up' });
    const notices = s.smtp.messages.filter((m) => m.subject.includes(`${host} was reported down`));
    expect(notices).toHaveLength(1);
    expect(notices[0]?.to.sort()).toEqual([...ADMINS].sort());
  });

  it('the poll alone: refuses a mass failure and a paused intake, then recovers the host; an alert for it starts nothing more', async () => {
    const s = stack as LabStack;
    const [vm] = await nova.bootActive([{ name: 'bench-poll-1', host: 'compute-2' }]);
    // Two of three hosts die and nobody alerts: Nova reports them down after service_down_time.
    await computeScript('kill', 'compute-2');
    await computeScript('kill', 'compute-3');
    await until(
      'the poll to refuse a mass failure',
      async () =>
        ['compute-2', 'compute-3'].every((h) => s.decisions(h).some((d) => d.reason === 'mass-failure')),
      180_000,
      1000,
    );
    expect(await s.listExecutions()).toHaveLength(2); // the two false-alarm runs of the first test
    // Paused, then compute-3 comes back: one host down is not a mass failure, but the intake is paused.
    s.env.FREEZER_DR_PAUSED = '1';
    await computeScript('start', 'compute-3');
    await until('compute-3 up', async () => (await nova.service('compute-3')).state === 'up', 120_000);
    await until(
      'the poll to refuse a paused intake',
      async () => s.decisions('compute-2').some((d) => d.reason === 'paused'),
      120_000,
      1000,
    );
    // Refused twice, and nothing touched (in the lab a dead nova-compute already reads power off).
    expect(await s.listExecutions()).toHaveLength(2);
    expect(await nova.service('compute-2')).toMatchObject({ forcedDown: false, status: 'enabled' });
    const seen = s.decisions('compute-2').length;
    delete s.env.FREEZER_DR_PAUSED;
    const started = await until(
      'the poll to start the recovery',
      async () =>
        s
          .decisions('compute-2')
          .slice(seen)
          .find((d) => d.decision === 'started'),
      60_000,
      500,
    );
    // A monitor's alert for the same incident, now: the poll's run is the one.
    const alert = await s.postAlert('compute-2', 'late-monitor');
    const [late] = alert.body.outcomes as { decision: string; executionName: string }[];
    expect(late).toMatchObject({ decision: 'already-handled', executionName: started.executionName });

    const done = await ended(s, started.executionName as string);
    expect(done.status, `${done.error}: ${done.cause}`).toBe('SUCCEEDED');
    const output = JSON.parse(done.output ?? '{}') as { confirm: { channels: { channel: string }[] } };
    expect(output.confirm.channels.map((c) => c.channel)).toEqual(['nova-down', 'nova-down']);
    expect(await bmcPower('compute-2')).toBe('off');
    const server = await nova.cloud.getServer(vm as string);
    expect(server?.host).not.toBe('compute-2');
    expect(server?.status).toBe('ACTIVE');
    expect(await s.listExecutions()).toHaveLength(3);
    const subjects = s.smtp.messages.map((m) => m.subject);
    expect(subjects.filter((t) => t.includes('too many hosts down'))).toHaveLength(1);
    expect(subjects.filter((t) => t.includes('is paused'))).toHaveLength(1);

    await restoreHost(s.rt, 'compute-2', {
      leaveDisabled: false,
      timeoutSeconds: 300,
      pollMs: 1000,
      onProgress: () => undefined,
    });
    await nova.deleteServers([vm as string]);
  });
});
