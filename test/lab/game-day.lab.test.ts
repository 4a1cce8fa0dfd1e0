// Game day on the real lab: two projects whose users have e-mail addresses in Keystone,
// servers on every host (HA_Enabled on some, one stopped, one in ERROR). compute-1 dies
// (its nova-compute is killed; nobody touches its power). A REAL Alertmanager, configured
// as in production (repeat_interval 4h), delivers ONE alert to the webhook at once, while
// Nova still reports the service up; that one alert starts the execution through the
// local Step Functions endpoint; the workflow waits for Nova to see the service stale,
// fences through the relay and the BMC, forces the service down and evacuates. Every
// assertion reads the real cloud, the BMC and the SMTP server. Then core/restore-host.ts
// brings compute-1 back. freezer-dr runs with the default recovery.confirm settings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDisabledReason } from '../../core/disabled-reason.js';
import type { Server } from '../../core/ports.js';
import { type RestoreProgress, restoreHost } from '../../core/restore-host.js';
import { type Alertmanager, startAlertmanager } from '../support/alertmanager.js';
import type { ReceivedMail } from '../support/notify-fixtures.js';
import { bmcPower, computeScript, labCloud } from './lab-env.js';
import { LabKeystone } from './lab-keystone.js';
import { LabNova, type ServerSpec, until } from './lab-nova.js';
import { ADMINS, type LabStack, startLabStack, WEBHOOK_TOKEN } from './lab-stack.js';

const FAILED = 'compute-1';
const cloud = labCloud();
const nova = new LabNova(cloud);
const keystone = new LabKeystone(cloud);

const PROJECTS = {
  alpha: {
    name: 'gd-alpha',
    users: [
      { name: 'gd-alice', email: 'alice@alpha.lab.example' },
      { name: 'gd-bob', email: 'bob@alpha.lab.example' },
    ],
  },
  beta: { name: 'gd-beta', users: [{ name: 'gd-carol', email: 'carol@beta.lab.example' }] },
};
const HA = { HA_Enabled: 'True' };

let stack: LabStack | null = null;
let am: Alertmanager | null = null;
const ids = new Map<string, string>(); // server name -> id
const projectIds = new Map<string, string>();
const started = Date.now();

beforeAll(async () => {
  await nova.healLab();
  const sessions = new Map<string, Awaited<ReturnType<LabKeystone['adminSessionIn']>>>();
  for (const project of Object.values(PROJECTS)) {
    const id = await keystone.project(project.name);
    projectIds.set(project.name, id);
    for (const user of project.users) await keystone.member(id, user);
    sessions.set(project.name, await keystone.adminSessionIn(project.name, id));
  }
  const alpha = sessions.get('gd-alpha');
  const beta = sessions.get('gd-beta');
  const specs: ServerSpec[] = [
    { name: 'gd-alpha-web-1', host: FAILED, metadata: HA, session: alpha },
    { name: 'gd-alpha-web-2', host: FAILED, metadata: HA, session: alpha },
    { name: 'gd-alpha-db', host: FAILED, metadata: HA, session: alpha },
    { name: 'gd-beta-app', host: FAILED, metadata: HA, session: beta },
    { name: 'gd-beta-scratch', host: FAILED, session: beta },
    { name: 'gd-alpha-c2', host: 'compute-2', metadata: HA, session: alpha },
    { name: 'gd-beta-c3', host: 'compute-3', metadata: HA, session: beta },
  ];
  const booted = await nova.bootActive(specs);
  for (const [i, spec] of specs.entries()) ids.set(spec.name, booted[i] as string);
  await nova.stop(ids.get('gd-alpha-db') as string);
  await nova.resetToError(ids.get('gd-beta-app') as string);

  stack = await startLabStack({ recovery: { selection: { mode: 'ha-enabled' } } });
  // Alertmanager's own defaults for group_interval and repeat_interval: a delivered alert is
  // sent again only after 4 hours, so the first delivery is the only one this test gets.
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
  for (const project of Object.values(PROJECTS)) {
    for (const user of project.users) await keystone.deleteByName('users', user.name).catch(() => undefined);
    await keystone.deleteByName('projects', project.name).catch(() => undefined);
  }
  console.log(
    `[game-day] total ${((Date.now() - started) / 1000).toFixed(1)} s (setup, recovery, restore, cleanup)`,
  );
}, 600_000);

const id = (name: string) => ids.get(name) as string;
const SELECTED = ['gd-alpha-web-1', 'gd-alpha-web-2', 'gd-alpha-db', 'gd-beta-app'];
const PRIOR: Record<string, string> = {
  'gd-alpha-web-1': 'ACTIVE',
  'gd-alpha-web-2': 'ACTIVE',
  'gd-alpha-db': 'SHUTOFF',
  'gd-beta-app': 'ERROR',
};

describe('game day: compute-1 dies on the real lab', () => {
  it('one alert through Alertmanager -> fenced, forced down, HA servers evacuated, everyone told; then restored', async () => {
    const s = stack as LabStack;
    const t0 = Date.now();
    await computeScript('kill', FAILED);
    await am?.postAlerts([
      {
        labels: { alertname: 'NovaComputeDown', host: FAILED, severity: 'critical' },
        annotations: { summary: `nova-compute on ${FAILED} is not answering` },
        startsAt: new Date().toISOString(),
        endsAt: new Date(Date.now() + 900_000).toISOString(),
      },
    ]);

    // One delivery, at once: Nova still reports the service up, and the run starts anyway.
    const [delivered] = await until(
      'the one delivery',
      async () => (s.decisions(FAILED).length ? s.decisions(FAILED) : null),
      30_000,
      200,
    );
    expect(delivered).toMatchObject({ decision: 'started', source: 'alertmanager' });
    expect((delivered as { channels?: string }).channels).toMatch(/^alert \(alertmanager\); Nova: not yet/);
    const execution = await until(
      'the recovery to finish',
      async () => {
        const [first] = await s.listExecutions();
        return first && first.status !== 'RUNNING' ? first : null;
      },
      600_000,
      1000,
    );
    const recoverySeconds = (Date.now() - t0) / 1000;
    console.log(`[game-day] kill -> execution ${execution.status} in ${recoverySeconds.toFixed(1)} s`);
    const described = await s.describe(execution.name as string);
    expect(described.status, `${described.error}: ${described.cause}`).toBe('SUCCEEDED');
    const output = JSON.parse(described.output ?? '{}') as {
      confirm: { channels: { channel: string; source: string }[] };
    };
    expect(output.confirm.channels.map((c) => `${c.channel}/${c.source}`)).toEqual([
      'alert/alertmanager',
      'nova-stale/nova',
    ]);
    expect(await s.listExecutions()).toHaveLength(1);
    expect(s.decisions(FAILED)).toHaveLength(1); // Alertmanager did not repeat itself

    // The BMC says off; Nova has the service forced down and disabled with our reason.
    expect(await bmcPower(FAILED)).toBe('off');
    const service = await nova.service(FAILED);
    expect(service).toMatchObject({ forcedDown: true, status: 'disabled', state: 'down' });
    const reason = parseDisabledReason(service.disabledReason);
    expect(reason?.incident, service.disabledReason ?? '').toBeTruthy();
    expect(service.disabledReason).toMatch(/^freezer-dr: host failure; incident=\S+ fence=ipmi-relay at=/);

    // Each selected server is back in its prior state elsewhere, with exactly one `done` evacuation.
    const servers = new Map<string, Server>();
    for (const name of ids.keys()) {
      const server = await cloud.getServer(id(name));
      if (server) servers.set(name, server);
    }
    for (const name of SELECTED) {
      const server = servers.get(name) as Server;
      expect(server.host, name).not.toBe(FAILED);
      expect(server.status, name).toBe(PRIOR[name]);
      expect(server.taskState, name).toBeNull();
      expect(server.locked, name).toBe(false);
      const migrations = await nova.evacuationsOf(id(name));
      expect(migrations, name).toHaveLength(1);
      expect(migrations[0]).toMatchObject({
        status: 'done',
        sourceCompute: FAILED,
        destCompute: server.host,
      });
    }
    // Not HA-enabled: left where it was; servers on healthy hosts untouched.
    expect(servers.get('gd-beta-scratch')?.host).toBe(FAILED);
    for (const name of ['gd-beta-scratch', 'gd-alpha-c2', 'gd-beta-c3'])
      expect(await nova.evacuationsOf(id(name)), name).toHaveLength(0);

    // E-mail: one to the admins with everything, one per project with only its own servers.
    const mails = await until(
      'three messages',
      async () => (s.smtp.messages.length >= 3 ? s.smtp.messages : null),
      60_000,
    );
    expect(mails).toHaveLength(3);
    const admin = mails.find((m) => !m.headers.has('x-freezer-dr-project')) as ReceivedMail;
    expect(admin.to.sort()).toEqual([...ADMINS].sort());
    expect(admin.subject).toContain(FAILED);
    for (const name of SELECTED) expect(admin.text).toContain(name);
    const project = (name: string) =>
      mails.find((m) => m.headers.get('x-freezer-dr-project') === projectIds.get(name)) as ReceivedMail;
    const alpha = project('gd-alpha');
    expect(alpha.to.sort()).toEqual(['alice@alpha.lab.example', 'bob@alpha.lab.example']);
    const beta = project('gd-beta');
    expect(beta.to).toEqual(['carol@beta.lab.example']);
    for (const body of [alpha.text, alpha.html]) {
      for (const name of ['gd-alpha-web-1', 'gd-alpha-web-2', 'gd-alpha-db']) expect(body).toContain(name);
      expect(body).not.toContain('gd-beta');
      expect(body).not.toMatch(/compute-\d/);
    }
    for (const body of [beta.text, beta.html]) {
      expect(body).toContain('gd-beta-app');
      expect(body).not.toContain('gd-alpha');
      expect(body).not.toMatch(/compute-\d/);
    }

    // Restore (core/restore-host.ts): power on through the relay, wait for the clean-up, re-enable.
    const progress: RestoreProgress[] = [];
    const tRestore = Date.now();
    const restored = await restoreHost(s.rt, FAILED, {
      leaveDisabled: false,
      timeoutSeconds: 300,
      pollMs: 1000,
      onProgress: (p) => progress.push(p),
    });
    console.log(`[game-day] restore in ${((Date.now() - tRestore) / 1000).toFixed(1)} s`);
    expect(restored).toMatchObject({ poweredOn: true, forcedDownCleared: true, enabled: true });
    expect(restored.migrations.completed).toBeGreaterThanOrEqual(SELECTED.length);
    expect(await bmcPower(FAILED)).toBe('on');
    for (const name of SELECTED) {
      const [migration] = await nova.evacuationsOf(id(name));
      expect(migration?.status, name).toBe('completed');
    }
    const after = await until(
      'compute-1 up',
      async () => {
        const svc = await nova.service(FAILED);
        return svc.state === 'up' ? svc : null;
      },
      120_000,
    );
    expect(after).toMatchObject({ forcedDown: false, status: 'enabled', disabledReason: null });

    // Nothing else started in the meantime (the alert stayed firing and was not repeated).
    expect(await s.listExecutions()).toHaveLength(1);
  });
});
