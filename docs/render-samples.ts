// Renders one administrator email and one project email for a sample recovery, exactly
// as the email notifier composes them, into docs/notifications/: the text part, the
// HTML part, the whole message (.eml) and a PNG screenshot of the HTML from headless
// Chromium. Nothing is sent and no network is used.
//
//   npx tsx docs/render-samples.ts [--templates <override dir>] [--out <dir>] [--no-png]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';
import type { InstanceReport, RecoveryReport } from '../core/ports.js';
import {
  composeEmails,
  DEFAULT_TENANT_KINDS,
  type OutgoingEmail,
} from '../drivers/notifier/email-messages.js';
import type { ProjectRecipients } from '../drivers/notifier/recipients.js';
import { loadTemplates } from '../drivers/notifier/template-loader.js';
import { screenshotHtml } from './chromium-screenshot.js';

const args = process.argv.slice(2);
const option = (name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(option('--out') ?? join(here, 'notifications'));

const at = (seconds: number) => new Date(Date.UTC(2026, 10, 21, 8, 14, 0) + seconds * 1000).toISOString();
const PROJECT = {
  webshop: '4f0c1d2ab9e84c1f9d53b7a3c2e1f0aa',
  analytics: '9b7e5c3a1d2f4e6a8c0b1d3f5a7c9e2b',
  ci: 'c1a2b3c4d5e6f708192a3b4c5d6e7f80',
};

const instance = (
  name: string,
  id: string,
  projectId: string,
  outcome: InstanceReport['outcome'],
  toHost: string | null,
  seconds: number | null,
  reason: string | null = null,
): InstanceReport => ({
  id,
  name,
  projectId,
  outcome,
  fromHost: 'compute-14',
  toHost,
  priorStatus: 'ACTIVE',
  finalStatus: outcome === 'failed' ? 'ERROR' : 'ACTIVE',
  seconds,
  reason,
});

const report: RecoveryReport = {
  kind: 'recovery',
  host: 'compute-14',
  incident: 'compute-14-20261121T081400Z',
  executionName: 'compute-14-5f3a9c1e0b7d',
  executionUrl:
    'https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/arn:aws:states:eu-west-1:123456789012:execution:freezer-dr-host-recovery:compute-14-5f3a9c1e0b7d',
  cause: 'alertmanager NovaComputeDown: nova-compute on compute-14 has not reported for 2 minutes',
  fence: {
    method: 'ipmi',
    controller: 'ipmi-relay → 10.40.0.114',
    verified: true,
    detail: `power verified off at ${at(19)}`,
  },
  timeline: [
    { stage: 'alert', at: at(0), detail: 'Alertmanager group NovaComputeDown, compute-14' },
    {
      stage: 'confirmed',
      at: at(2),
      detail: 'nova-compute last reported 128 s ago; the host does not answer ping',
    },
    { stage: 'fenced', at: at(19), detail: 'chassis power off through ipmi-relay; power reads off' },
    { stage: 'marked down', at: at(20), detail: 'nova-compute forced down and disabled' },
    { stage: 'evacuating', at: at(21), detail: '6 instances, 10 at a time' },
    { stage: 'verified', at: at(98), detail: '5 instances ACTIVE on other hosts, 1 failed' },
  ],
  instances: [
    instance(
      'shop-web-1',
      '0d6f4a9e-3b1c-4c2d-9a8e-7f6b5c4d3e21',
      PROJECT.webshop,
      'recovered',
      'compute-03',
      41.2,
    ),
    instance(
      'shop-web-2',
      '5a2e8c1d-7f3b-4e9a-b6c4-1d0e9f8a7b62',
      PROJECT.webshop,
      'recovered',
      'compute-09',
      44.8,
    ),
    instance(
      'shop-db',
      '9c1b7e3a-2d4f-4a6b-8c9e-0f1a2b3c4d53',
      PROJECT.webshop,
      'recovered',
      'compute-03',
      63.5,
    ),
    instance(
      'etl-<nightly>',
      'b4d2f6a8-1c3e-4b5d-9f7a-2e4c6a8b0d14',
      PROJECT.analytics,
      'recovered',
      'compute-11',
      52.1,
    ),
    instance(
      'spark-worker-3',
      'e8a6c4b2-0d9f-4e7c-a5b3-1f2d3c4b5a95',
      PROJECT.analytics,
      'already-recovered',
      'compute-07',
      null,
    ),
    instance(
      'runner-gpu-1',
      'f1e2d3c4-b5a6-4978-8695-a4b3c2d1e0f6',
      PROJECT.ci,
      'failed',
      null,
      null,
      'Instance.Failed: no valid host: no other host offers the pci_passthrough:alias gpu-a10',
    ),
  ],
  counts: { selected: 6, recovered: 5, failed: 1, skipped: 2 },
  startedAt: at(0),
  finishedAt: at(99),
};

const recipients: ProjectRecipients[] = [
  {
    projectId: PROJECT.webshop,
    projectName: 'webshop',
    addresses: ['maria.lopez@webshop.example', 'devops@webshop.example', 'k.tanaka@webshop.example'],
    source: 'keystone',
    note: null,
  },
  {
    projectId: PROJECT.analytics,
    projectName: 'analytics',
    addresses: ['data-oncall@example.org'],
    source: 'override',
    note: null,
  },
  {
    projectId: PROJECT.ci,
    projectName: 'ci-runners',
    addresses: ['cloud-ops@example.org'],
    source: 'admins',
    note: 'none of its 2 user(s) has an email address in Keystone',
  },
];

const loaded = await loadTemplates(option('--templates'));
const { messages } = composeEmails({
  report,
  recipients,
  templates: loaded.templates,
  notes: loaded.problems,
  settings: {
    from: 'freezer-dr <freezer-dr@cloud.example.org>',
    replyTo: 'cloud-ops@example.org',
    admins: ['cloud-ops@example.org'],
    tenantKinds: DEFAULT_TENANT_KINDS,
    tenantsEnabled: true,
    addressing: 'bcc',
    cloudName: 'Example Cloud',
    timeZone: 'UTC',
    showHostsToTenants: false,
    contact: 'support@cloud.example.org',
    subjectPrefix: '[freezer-dr]',
  },
});

// The .eml is the message as the SMTP server receives it: Bcc recipients are only in
// the envelope, never in the headers.
const eml = async (m: OutgoingEmail): Promise<string> => {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  const info = await transport.sendMail({
    from: 'freezer-dr <freezer-dr@cloud.example.org>',
    replyTo: 'cloud-ops@example.org',
    ...(m.to.length ? { to: m.to } : {}),
    envelope: { from: 'freezer-dr@cloud.example.org', to: [...m.to, ...m.bcc] },
    subject: m.subject,
    text: m.text,
    html: m.html,
    messageId: m.messageId,
    headers: m.headers,
    priority: m.priority,
    date: new Date(report.finishedAt),
  });
  return (info.message as Buffer).toString('utf8');
};

mkdirSync(out, { recursive: true });
const samples = [
  { name: 'admin-email', message: messages.find((m) => m.audience === 'admin') },
  { name: 'tenant-email', message: messages.find((m) => m.projectId === PROJECT.webshop) },
];
for (const { name, message } of samples) {
  if (!message) throw new Error(`no ${name} was composed`);
  const base = join(out, name);
  writeFileSync(`${base}.txt`, `Subject: ${message.subject}\n\n${message.text}`);
  writeFileSync(`${base}.html`, message.html);
  writeFileSync(`${base}.eml`, await eml(message));
  if (!args.includes('--no-png'))
    writeFileSync(`${base}.png`, await screenshotHtml(`${base}.html`, { width: 760 }));
  console.log(
    `${name}: ${message.subject}\n  -> ${base}.{txt,html,eml${args.includes('--no-png') ? '' : ',png'}}`,
  );
}
