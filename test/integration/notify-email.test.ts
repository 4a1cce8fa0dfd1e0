// The email notifier end to end: nodemailer -> a real SMTP server on 127.0.0.1, with
// project users' addresses from the simulated Keystone. Asserts envelopes, subjects,
// text and HTML per project: a tenant never sees another tenant's instances.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deliverReport } from '../../core/deliver-report.js';
import type { NotificationKind } from '../../core/ports.js';
import { type SimulatedCloud, startSimulatedCloud } from '../../drivers/cloud/simulated/server.js';
import {
  createEmailNotifier,
  type EmailNotifier,
  emailNotifierSchema,
} from '../../drivers/notifier/email.js';
import { silentLogger } from '../support/capture-logger.js';
import {
  PROJECTS,
  type ReceivedMail,
  type SmtpSink,
  sampleReport,
  seedIdentity,
  startSmtpSink,
} from '../support/notify-fixtures.js';

let sim: SimulatedCloud;
let smtp: SmtpSink;
beforeEach(async () => {
  sim = await startSimulatedCloud({ hosts: ['compute-1'] });
  seedIdentity(sim.identity);
});
afterEach(async () => {
  await sim.close();
  await smtp?.close();
});

const ADMINS = ['ops@cloud.example', 'oncall@cloud.example'];

function notifier(extra: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}): EmailNotifier {
  const options = emailNotifierSchema.parse({
    driver: 'email',
    from: 'freezer-dr <freezer-dr@cloud.example>',
    admins: ADMINS,
    cloudName: 'Example Cloud',
    smtp: { host: '127.0.0.1', port: smtp.port, security: 'none', connectionTimeoutMs: 2_000 },
    ...extra,
    tenants: {
      roles: ['member', 'admin'],
      excludeUsers: ['nova'],
      projects: { [PROJECTS.beta]: ['beta-team@beta.example'] },
      ...(extra.tenants as object | undefined),
    },
  });
  return createEmailNotifier(options, { logger: silentLogger as never, env, simulated: sim });
}

const byProject = (messages: ReceivedMail[], project: string) =>
  messages.find((m) => m.headers.get('x-freezer-dr-project') === project) as ReceivedMail;
const admin = (messages: ReceivedMail[]) =>
  messages.find((m) => !m.headers.has('x-freezer-dr-project')) as ReceivedMail;

const ALL_NAMES = [
  'web-1',
  'db-<script>alert(1)</script>',
  'café-worker',
  'beta-secret-app',
  'gamma-batch',
  'orphan-1',
];

describe('email notifier over SMTP', () => {
  it('sends one admin message and one message per affected project, each to the right people', async () => {
    smtp = await startSmtpSink();
    const report = sampleReport();
    const [result] = await deliverReport([notifier()], report);
    expect(result).toEqual({ notifier: 'email', ok: true, attempts: 1, error: null });
    const { messages } = smtp;
    expect(messages).toHaveLength(4);

    // Administrators: everything, every instance, old and new host, time taken, the link.
    const a = admin(messages);
    expect(a.to.sort()).toEqual([...ADMINS].sort());
    expect(a.from).toBe('freezer-dr@cloud.example');
    expect(a.subject).toBe('[freezer-dr] ACTION NEEDED: compute-7 failed, 1 of 6 instances NOT recovered');
    expect(a.headers.get('auto-submitted')).toBe('auto-generated');
    for (const name of ALL_NAMES) expect(a.text).toContain(name);
    expect(a.text).toContain('Recovered: compute-7 → compute-2 in 42.3 s, ACTIVE');
    expect(a.text).toContain('NOT recovered: still on compute-7: Instance.NotSettled');
    expect(a.text).toContain(
      'Instance.NotSettled: rebuild on compute-3 did not finish within 600 s (http://nova-internal.example:8774)',
    );
    expect(a.text).toContain('https://console.example.org/states/executions/compute-7-1a30ba71');
    expect(a.text).toContain('NovaComputeDown: nova-compute down on compute-7');
    expect(a.text).toMatch(/Fencing: +ipmi \(ipmi-relay 10\.20\.0\.7\): power verified off at /);
    expect(a.text).toContain('2026-11-21 08:00:21 UTC  fence: power off, verified off');
    expect(a.text).toContain('openstack server evacuate <id>');
    expect(a.text).toMatch(/gamma \(1 instance\): no project address: sent to the administrators instead/);
    expect(a.text).toMatch(/alpha \(3 instances\): 2 project users/);
    expect(a.html).toContain('db-&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(a.html).not.toContain('<script>');
    expect(a.html).toContain('href="https://console.example.org/states/executions/compute-7-1a30ba71"');
    expect(a.html).toContain('compute-7 → compute-2');

    // alpha: its users found in Keystone (bob through a group), hidden from each other by Bcc.
    const alpha = byProject(messages, PROJECTS.alpha);
    expect(alpha.to.sort()).toEqual(['alice@alpha.example', 'bob@alpha.example']);
    expect(alpha.headers.has('to')).toBe(false);
    expect(alpha.raw).not.toContain('alice@alpha.example');
    expect(alpha.raw).not.toContain('compute-7'); // not even in a header
    expect(alpha.subject).toBe(
      '[freezer-dr] 1 of your instances could not be restarted after a host failure (project alpha)',
    );
    for (const body of [alpha.text, alpha.html]) {
      expect(body).toContain('web-1');
      expect(body).toContain('café-worker');
      for (const other of ['beta-secret-app', 'gamma-batch', 'orphan-1']) expect(body).not.toContain(other);
      // Host names are the operator's business unless tenants.showHosts is on.
      expect(body).not.toMatch(/compute-\d/);
      expect(body).not.toContain('NovaComputeDown');
    }
    expect(alpha.text).toContain('db-<script>alert(1)</script>');
    expect(alpha.html).toContain('db-&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(alpha.html).not.toContain('<script>');
    expect(alpha.text).toContain('recovered on another host in 42.3 s (ACTIVE)');
    // Nova's reason names hosts and internal addresses: tenants get it in general words.
    expect(alpha.text).toContain(
      'NOT recovered: it could not be restarted automatically; the cloud operators have the details',
    );
    for (const body of [alpha.text, alpha.html]) {
      expect(body).not.toContain('nova-internal');
      expect(body).not.toContain('Instance.NotSettled');
    }

    // beta: the configured override list, not its Keystone users.
    const beta = byProject(messages, PROJECTS.beta);
    expect(beta.to).toEqual(['beta-team@beta.example']);
    expect(beta.subject).toBe('[freezer-dr] Your instance was restarted after a host failure (project beta)');
    expect(beta.text).toContain('beta-secret-app');
    for (const other of ['web-1', 'café-worker', 'gamma-batch', 'script']) {
      expect(beta.text).not.toContain(other);
      expect(beta.html).not.toContain(other);
    }

    // gamma: nobody with an address, so the admins get gamma's message with a note.
    const gamma = byProject(messages, PROJECTS.gamma);
    expect(gamma.to.sort()).toEqual([...ADMINS].sort());
    expect(gamma.text).toMatch(
      /^NOTE FOR THE ADMINISTRATORS: freezer-dr has no address for the users of project gamma/,
    );
    expect(gamma.text).toContain('gamma-batch');
    expect(gamma.text).not.toContain('web-1');
  });

  it('shows host names to tenants only when allowed', async () => {
    smtp = await startSmtpSink();
    await deliverReport([notifier({ tenants: { showHosts: true } })], sampleReport());
    const alpha = byProject(smtp.messages, PROJECTS.alpha);
    expect(alpha.text).toContain('recovered on compute-2 in 42.3 s');
    expect(alpha.text).toContain('failure of compute host compute-7');
  });

  it('writes a distinct message, with what to do next, for each kind of outcome', async () => {
    smtp = await startSmtpSink();
    const n = notifier();
    const kinds: NotificationKind[] = [
      'fencing-failed',
      'mass-failure',
      'paused',
      'recovery-failed',
      'not-confirmed',
    ];
    const expected: Record<string, { subject: string; step: RegExp }> = {
      'fencing-failed': {
        subject: '[freezer-dr] ACTION NEEDED: compute-7 could not be fenced, nothing was evacuated',
        step: /Power compute-7 off by other means \(BMC console, PDU\)/,
      },
      'mass-failure': {
        subject: '[freezer-dr] ACTION NEEDED: recovery of compute-7 refused, too many hosts down at once',
        step: /recover them one at a time/,
      },
      paused: {
        subject: '[freezer-dr] ACTION NEEDED: recovery of compute-7 is paused',
        step: /Resume the recovery/,
      },
      'recovery-failed': {
        subject: '[freezer-dr] ACTION NEEDED: recovery of compute-7 stopped with an error',
        step: /openstack server list --all-projects --host compute-7/,
      },
      'not-confirmed': {
        subject:
          '[freezer-dr] compute-7 was reported down but the failure is not confirmed; nothing was done',
        step: /If it was a false alarm, nothing needs to be done/,
      },
    };
    for (const kind of kinds) {
      const results = await deliverReport(
        [n],
        sampleReport({ kind, cause: `Fence.NotVerified: ${kind} cause` }),
      );
      expect(results[0]?.ok).toBe(true);
    }
    const admins = smtp.messages.filter((m) => !m.headers.has('x-freezer-dr-project'));
    expect(admins.map((m) => m.headers.get('x-freezer-dr-kind'))).toEqual(kinds);
    for (const m of admins) {
      const want = expected[m.headers.get('x-freezer-dr-kind') as string];
      expect(m.subject).toBe(want?.subject);
      expect(m.text).toMatch(want?.step as RegExp);
      expect(m.html).toMatch(want?.step as RegExp);
    }
    expect(new Set(admins.map((m) => m.text.split('\n')[2])).size).toBe(kinds.length);
    // Tenants hear about every kind except an unconfirmed alert.
    const tenantKinds = smtp.messages
      .filter((m) => m.headers.has('x-freezer-dr-project'))
      .map((m) => m.headers.get('x-freezer-dr-kind'));
    expect(new Set(tenantKinds)).toEqual(
      new Set(['fencing-failed', 'mass-failure', 'paused', 'recovery-failed']),
    );
    const paused = smtp.messages.find(
      (m) =>
        m.headers.get('x-freezer-dr-kind') === 'paused' &&
        m.headers.get('x-freezer-dr-project') === PROJECTS.beta,
    );
    expect(paused?.subject).toBe('[freezer-dr] Your instances are down after a host failure (project beta)');
    expect(paused?.text).toContain('The cloud operators have been told');
  });

  it('tells the admins and each project of a drain: a planned move without a reboot, and what still runs on the host', async () => {
    smtp = await startSmtpSink();
    const moved = (name: string, project: string, to: string) => ({
      fromHost: 'compute-7',
      priorStatus: 'ACTIVE',
      id: `${name}-0000-4000-8000-000000000000`,
      name,
      projectId: project,
      outcome: 'migrated' as const,
      toHost: to,
      finalStatus: 'ACTIVE',
      seconds: 11,
      reason: null,
    });
    const report = sampleReport({
      kind: 'drain',
      fence: null,
      cause: 'EccStorm: corrected ECC errors on compute-7',
      instances: [
        moved('web-1', PROJECTS.alpha, 'compute-2'),
        moved('beta-app', PROJECTS.beta, 'compute-3'),
        {
          ...moved('vtpm-1', PROJECTS.alpha, 'compute-2'),
          outcome: 'not-migrated',
          toHost: null,
          reason: 'Nova 400: Operation not supported for an instance with a vTPM.',
        },
      ],
      counts: { selected: 3, recovered: 2, failed: 1, skipped: 0 },
    });
    const [result] = await deliverReport([notifier()], report);
    expect(result?.ok).toBe(true);
    const a = admin(smtp.messages);
    expect(a.subject).toBe(
      '[freezer-dr] ACTION NEEDED: compute-7 drained, degraded host still holds 1 instance',
    );
    expect(a.text).toContain('live-migrated to other hosts without a reboot');
    expect(a.text).toContain('Moved (live): compute-7 → compute-2');
    expect(a.text).toContain('NOT moved: still on compute-7, running: Nova 400: Operation not supported');
    expect(a.text).toContain('freezer-dr restore compute-7');
    const beta = byProject(smtp.messages, PROJECTS.beta);
    expect(beta.subject).toBe(
      '[freezer-dr] Your instance was moved to another host, without a reboot (project beta)',
    );
    expect(beta.text).toContain('they kept running, with no reboot');
    expect(beta.text).not.toContain('vtpm-1');
    const alpha = byProject(smtp.messages, PROJECTS.alpha);
    expect(alpha.subject).toContain('1 of your instances could not be moved yet');
  });

  it('takes replaced templates from a directory, keeping values escaped', async () => {
    smtp = await startSmtpSink();
    const dir = mkdtempSync(join(tmpdir(), 'freezer-dr-templates-'));
    writeFileSync(
      join(dir, 'tenant.mjs'),
      [
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the source of a template module written to disk
        'export const subject = (v) => `Host trouble for ${v.project.name}: ${v.counts.failed} down`;',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the source of a template module written to disk
        'export const html = (v, h) => h.html`<h1>${v.project.name}</h1><ul>${v.instances.map((i) => h.html`<li>${i.name}</li>`)}</ul>`;',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'admin.mjs'), 'export const subject = () => { throw new Error("boom"); };\n');
    await deliverReport([notifier({ templates: dir })], sampleReport());
    const alpha = byProject(smtp.messages, PROJECTS.alpha);
    expect(alpha.subject).toBe('Host trouble for alpha: 1 down');
    expect(alpha.html).toContain('<li>db-&lt;script&gt;alert(1)&lt;/script&gt;</li>');
    expect(alpha.text).toContain('What this means for you:'); // text part: still the built-in
    const a = admin(smtp.messages);
    expect(a.subject).toContain('[freezer-dr] ACTION NEEDED: compute-7 failed');
  });

  it('reports broken template overrides in the admin message instead of failing', async () => {
    smtp = await startSmtpSink();
    const dir = mkdtempSync(join(tmpdir(), 'freezer-dr-templates-'));
    writeFileSync(
      join(dir, 'tenant.mjs'),
      'export const text = () => { throw new Error("typo in template"); };\n',
    );
    const [result] = await deliverReport([notifier({ templates: dir })], sampleReport());
    expect(result?.ok).toBe(true);
    expect(admin(smtp.messages).text).toContain(
      'the replaced tenant template failed to render its text (typo in template)',
    );
    expect(byProject(smtp.messages, PROJECTS.alpha).text).toContain('web-1');
  });

  it('authenticates with a password read from a file or an environment variable, never showing it', async () => {
    const accounts: Record<string, string> = { freezer: 'pa55-w0rd-from-secret' };
    smtp = await startSmtpSink({
      authOptional: false,
      allowInsecureAuth: true,
      onAuth(auth, _session, callback) {
        if (accounts[auth.username ?? ''] === auth.password) return callback(null, { user: auth.username });
        return callback(new Error('Invalid username or password'));
      },
    });
    const dir = mkdtempSync(join(tmpdir(), 'freezer-dr-secret-'));
    writeFileSync(join(dir, 'smtp-password'), 'pa55-w0rd-from-secret\n');
    const viaFile = notifier({
      smtp: {
        host: '127.0.0.1',
        port: smtp.port,
        security: 'none',
        auth: { user: 'freezer', password: { file: join(dir, 'smtp-password') } },
      },
    });
    const viaEnv = notifier(
      {
        smtp: {
          host: '127.0.0.1',
          port: smtp.port,
          security: 'none',
          auth: { user: 'freezer', password: { env: 'SMTP_PASSWORD' } },
        },
      },
      { SMTP_PASSWORD: 'pa55-w0rd-from-secret' },
    );
    const results = await deliverReport([viaFile, viaEnv], sampleReport({ kind: 'not-confirmed' }));
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    expect(smtp.messages.map((m) => m.user)).toEqual(['freezer', 'freezer']);

    const wrong = notifier(
      {
        smtp: {
          host: '127.0.0.1',
          port: smtp.port,
          security: 'none',
          auth: { user: 'freezer', password: { env: 'SMTP_PASSWORD' } },
        },
      },
      { SMTP_PASSWORD: 'not-the-right-one' },
    );
    const [failed] = await deliverReport([wrong], sampleReport(), { retry: { initialDelayMs: 1 } });
    expect(failed?.ok).toBe(false);
    expect(failed?.attempts).toBe(1); // 535: retrying the same password cannot help
    expect(failed?.error).toMatch(/EAUTH/);
    expect(failed?.error).not.toContain('not-the-right-one');

    const missing = notifier({
      smtp: {
        host: '127.0.0.1',
        port: smtp.port,
        security: 'none',
        auth: { user: 'freezer', password: { env: 'UNSET_VAR' } },
      },
    });
    const [unset] = await deliverReport([missing], sampleReport());
    expect(unset).toMatchObject({
      ok: false,
      attempts: 1,
      error: 'SMTP password: environment variable UNSET_VAR is not set',
    });
  });

  it('speaks STARTTLS and implicit TLS', async () => {
    smtp = await startSmtpSink({ disabledCommands: [] });
    const starttls = notifier({
      smtp: { host: '127.0.0.1', port: smtp.port, security: 'starttls', rejectUnauthorized: false },
    });
    expect((await deliverReport([starttls], sampleReport({ kind: 'paused' })))[0]?.ok).toBe(true);
    expect(smtp.messages.every((m) => m.secure)).toBe(true);
    await smtp.close();

    smtp = await startSmtpSink({ secure: true, disabledCommands: [] });
    const implicit = notifier({
      smtp: { host: '127.0.0.1', port: smtp.port, security: 'tls', rejectUnauthorized: false },
    });
    expect((await deliverReport([implicit], sampleReport({ kind: 'paused' })))[0]?.ok).toBe(true);
    expect(smtp.messages.length).toBeGreaterThan(0);
    expect(smtp.messages.every((m) => m.secure)).toBe(true);

    // The server's self-signed certificate is refused unless the operator says otherwise.
    const strict = notifier({ smtp: { host: '127.0.0.1', port: smtp.port, security: 'tls' } });
    const [refused] = await deliverReport([strict], sampleReport({ kind: 'paused' }), {
      retry: { attempts: 1 },
    });
    expect(refused?.ok).toBe(false);
    expect(refused?.error).toMatch(/certificate/i);
  });

  it('retries only the messages that failed: nobody gets a message twice', async () => {
    let refusals = 0;
    smtp = await startSmtpSink({
      onRcptTo(address, _session, callback) {
        if (address.address === 'beta-team@beta.example' && refusals++ === 0) {
          const error = Object.assign(new Error('Mailbox busy, try again later'), { responseCode: 451 });
          return callback(error);
        }
        callback();
      },
    });
    const [result] = await deliverReport([notifier()], sampleReport(), { retry: { initialDelayMs: 10 } });
    expect(result).toMatchObject({ ok: true, attempts: 2 });
    expect(smtp.messages).toHaveLength(4);
    expect(smtp.messages.filter((m) => !m.headers.has('x-freezer-dr-project'))).toHaveLength(1);
    expect(byProject(smtp.messages, PROJECTS.beta).to).toEqual(['beta-team@beta.example']);
  });
});
