// Turns one RecoveryReport into the messages to send: one for the administrators and
// one per affected project, each rendered from its own view so a tenant's message is
// built only from that tenant's instances. Pure: no network, so samples and tests
// render exactly what the notifier sends.
import { createHash } from 'node:crypto';
import type { NotificationKind, RecoveryReport } from '../../core/ports.js';
import { htmlHelpers } from './html.js';
import {
  adminView,
  type MessageView,
  type ProjectDelivery,
  tenantView,
  type ViewSettings,
} from './message-view.js';
import type { ProjectRecipients } from './recipients.js';
import { builtInTemplates } from './template-loader.js';
import type { EmailTemplate, EmailTemplates } from './templates/contract.js';

export interface EmailSettings extends ViewSettings {
  from: string;
  replyTo: string | null;
  admins: string[];
  /** Report kinds tenants are told about (an unconfirmed alert is not worth alarming them). */
  tenantKinds: NotificationKind[];
  tenantsEnabled: boolean;
  /** bcc keeps project members' addresses from each other. */
  addressing: 'bcc' | 'to';
}

export interface OutgoingEmail {
  /** Stable per report and audience: lets a retry skip messages already accepted. */
  key: string;
  audience: 'admin' | 'tenant';
  projectId: string | null;
  to: string[];
  bcc: string[];
  subject: string;
  text: string;
  html: string;
  messageId: string;
  headers: Record<string, string>;
  priority: 'high' | 'normal';
}

export const DEFAULT_TENANT_KINDS: NotificationKind[] = [
  'recovery',
  'recovery-failed',
  'fencing-failed',
  'mass-failure',
  'paused',
  'drain',
];

/** Project ids with at least one instance in the report, in first-seen order. */
export function affectedProjects(report: RecoveryReport): string[] {
  return [...new Set(report.instances.map((i) => i.projectId).filter((id): id is string => !!id))];
}

function domainOf(from: string): string {
  const match = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from);
  return match?.[1] ?? 'freezer-dr.invalid';
}

function renderPart<K extends keyof EmailTemplate>(
  template: EmailTemplate,
  builtIn: EmailTemplate,
  part: K,
  view: MessageView,
  problems: string[],
): string {
  try {
    return String(template[part](view, htmlHelpers));
  } catch (error) {
    if (template[part] === builtIn[part]) throw error;
    problems.push(
      `the replaced ${view.audience} template failed to render its ${part} (${(error as Error).message}); the built-in was used`,
    );
    return String(builtIn[part](view, htmlHelpers));
  }
}

function render(template: EmailTemplate, builtIn: EmailTemplate, view: MessageView, problems: string[]) {
  return {
    subject: renderPart(template, builtIn, 'subject', view, problems).replace(/\s+/g, ' ').trim(),
    text: renderPart(template, builtIn, 'text', view, problems),
    html: renderPart(template, builtIn, 'html', view, problems),
  };
}

export interface ComposeInput {
  report: RecoveryReport;
  settings: EmailSettings;
  /** Resolved recipients of every affected project (empty when tenants are not told). */
  recipients: ProjectRecipients[];
  templates?: EmailTemplates;
  /** Problems found before rendering (template loading, lookups) for the admin message. */
  notes?: string[];
}

export interface ComposedEmails {
  /** The admin message first, then one per project. */
  messages: OutgoingEmail[];
  /** Template problems worked around while rendering (also shown in the admin message when possible). */
  problems: string[];
}

export function composeEmails(input: ComposeInput): ComposedEmails {
  const { report, settings } = input;
  const templates = input.templates ?? builtInTemplates;
  const renderProblems: string[] = [];
  const tenantsTold = settings.tenantsEnabled && settings.tenantKinds.includes(report.kind);
  const seed = [report.incident, report.executionName ?? '', report.kind, report.finishedAt].join('|');
  const domain = domainOf(settings.from);
  const idFor = (audience: string) =>
    `<freezer-dr.${createHash('sha256').update(`${seed}|${audience}`).digest('hex').slice(0, 24)}@${domain}>`;
  const headers = {
    'Auto-Submitted': 'auto-generated',
    'X-Auto-Response-Suppress': 'All',
    'X-Freezer-DR-Incident': report.incident,
    'X-Freezer-DR-Kind': report.kind,
  };
  const byProject = new Map(input.recipients.map((r) => [r.projectId, r]));
  const projectIds = affectedProjects(report);
  const names = new Map(projectIds.map((id) => [id, byProject.get(id)?.projectName ?? null]));

  const tenantMessages: OutgoingEmail[] = [];
  const deliveries: ProjectDelivery[] = projectIds.map((projectId) => {
    const instances = report.instances.filter((i) => i.projectId === projectId).length;
    const recipients = byProject.get(projectId);
    if (!tenantsTold || !recipients) {
      return {
        projectId,
        projectName: names.get(projectId) ?? null,
        instances,
        recipients: 0,
        source: 'not-sent',
        note: tenantsTold
          ? 'recipients could not be resolved'
          : settings.tenantsEnabled
            ? `projects are not told about "${report.kind}" reports`
            : 'project messages are turned off',
      };
    }
    const project = { id: projectId, name: recipients.projectName };
    const fallbackNote =
      recipients.source === 'admins'
        ? `freezer-dr has no address for the users of project ${recipients.projectName ?? projectId} (${recipients.note ?? 'unknown reason'}). This is the message they would have received: please pass it on, and add the users' email in Keystone or an address for the project in freezer-dr.yaml.`
        : null;
    const view = tenantView(report, settings, project, { fallbackNote });
    const rendered = render(templates.tenant, builtInTemplates.tenant, view, renderProblems);
    const key = `tenant:${projectId}`;
    const toAdmins = recipients.source === 'admins';
    tenantMessages.push({
      key,
      audience: 'tenant',
      projectId,
      to: toAdmins || settings.addressing === 'to' ? recipients.addresses : [],
      bcc: toAdmins || settings.addressing === 'to' ? [] : recipients.addresses,
      ...rendered,
      messageId: idFor(key),
      // The tenant's reference, not the incident id: the latter names the host.
      headers: { ...headers, 'X-Freezer-DR-Incident': view.incident, 'X-Freezer-DR-Project': projectId },
      priority: view.actionNeeded ? 'high' : 'normal',
    });
    return {
      projectId,
      projectName: recipients.projectName,
      instances,
      recipients: recipients.addresses.length,
      source: recipients.source,
      note: recipients.note,
    };
  });

  const unknown = report.instances.filter((i) => !i.projectId).length;
  const notes = [
    ...(input.notes ?? []),
    ...renderProblems,
    ...(tenantsTold && unknown
      ? [`${unknown} instance(s) have no known project, so no project was told about them.`]
      : []),
  ];
  const view = adminView(report, settings, { projects: deliveries, projectNames: names, notes });
  const adminProblems: string[] = [];
  const admin: OutgoingEmail = {
    key: 'admin',
    audience: 'admin',
    projectId: null,
    to: settings.admins,
    bcc: [],
    ...render(templates.admin, builtInTemplates.admin, view, adminProblems),
    messageId: idFor('admin'),
    headers,
    priority: view.actionNeeded ? 'high' : 'normal',
  };
  return { messages: [admin, ...tenantMessages], problems: [...renderProblems, ...adminProblems] };
}
