// Email notifier: nodemailer over SMTP. Per report, one message to the administrators
// and one per affected project (to that project's users only). The SMTP password is
// read at send time from a file or an environment variable and never logged.
import { readFileSync } from 'node:fs';
import type { Logger } from '@aws-lambda-powertools/logger';
import nodemailer, { type SMTPPoolOptions } from 'nodemailer';
import { z } from 'zod';
import { type Connection, resolveConnection } from '../cloud/openstack/credentials.js';
import { KeystoneSession } from '../cloud/openstack/session.js';
import type { NotifyOptions, RecoveryReport } from '../types.js';
import { type RetryingNotifier, type RetryPolicy, retrySchema } from './deliver.js';
import {
  affectedProjects,
  composeEmails,
  DEFAULT_TENANT_KINDS,
  type EmailSettings,
  type OutgoingEmail,
} from './email-messages.js';
import { timeZoneSchema } from './message-view.js';
import { NotifierError, redact } from './notifier-error.js';
import {
  type IdentityDirectory,
  isAddress,
  KeystoneDirectory,
  type ProjectRecipients,
  RecipientResolver,
} from './recipients.js';
import { oneSource, readSecret, type SecretsManagerGet } from './secret-source.js';
import { type LoadedTemplates, loadTemplates } from './template-loader.js';

const kinds = z.enum([
  'recovery',
  'fencing-failed',
  'recovery-failed',
  'not-confirmed',
  'mass-failure',
  'paused',
]);
const address = z.string().refine(isAddress, { message: 'not an email address' });

export const emailNotifierSchema = z.strictObject({
  driver: z.literal('email'),
  /** Envelope and header sender, e.g. "freezer-dr <freezer-dr@cloud.example.org>". */
  from: z.string().min(3),
  replyTo: z.string().optional(),
  /** Administrators: get every report, and a project's message when it has no address. */
  admins: z.array(address).min(1),
  smtp: z.strictObject({
    host: z.string().min(1),
    /** Default: 465 for tls, 25 for none, else 587. */
    port: z.number().int().min(1).max(65535).optional(),
    /** tls: TLS from the first byte (465); starttls: upgrade required; opportunistic: upgrade if offered; none: plain. */
    security: z.enum(['tls', 'starttls', 'opportunistic', 'none']).default('starttls'),
    auth: z
      .strictObject({
        user: z.string().min(1),
        /** Where the password is: a file, an environment variable, or a Secrets Manager secret
         *  (its string, or the "password" field of its JSON). Exactly one. */
        passwordFile: z.string().min(1).optional(),
        passwordEnv: z.string().min(1).optional(),
        passwordSecret: z.string().min(1).optional(),
      })
      .refine((a) => oneSource(a.passwordFile, a.passwordEnv, a.passwordSecret), {
        message: 'set exactly one of passwordFile, passwordEnv or passwordSecret',
      })
      .optional(),
    /** PEM bundle for a private CA. */
    caFile: z.string().optional(),
    rejectUnauthorized: z.boolean().default(true),
    /** Name sent with EHLO. */
    clientName: z.string().optional(),
    connectionTimeoutMs: z.number().int().positive().default(10_000),
    socketTimeoutMs: z.number().int().positive().default(30_000),
  }),
  tenants: z
    .strictObject({
      enabled: z.boolean().default(true),
      kinds: z.array(kinds).default(DEFAULT_TENANT_KINDS),
      addressing: z.enum(['bcc', 'to']).default('bcc'),
      /** Only users with one of these roles on the project; omit for any role. */
      roles: z.array(z.string()).min(1).optional(),
      /** User names or ids never mailed as tenants (service and cloud-admin accounts). */
      excludeUsers: z.array(z.string()).default([]),
      /** Project id or name -> addresses, used instead of the Keystone lookup. */
      projects: z.record(z.string(), z.array(address)).default({}),
      showHosts: z.boolean().default(false),
      contact: z.string().optional(),
      /** Keystone for the users' addresses: a clouds.yaml cloud (default: as the cloud driver), or false. */
      keystone: z
        .union([
          z.literal(false),
          z.strictObject({
            cloud: z.string().optional(),
            timeoutMs: z.number().int().positive().default(15_000),
          }),
        ])
        .default({ timeoutMs: 15_000 }),
    })
    .prefault({}),
  /** Directory with admin.{mjs,js,ts} / tenant.{mjs,js,ts} replacing built-in templates. */
  templates: z.string().optional(),
  subjectPrefix: z.string().default('[freezer-dr]'),
  cloudName: z.string().default('OpenStack'),
  /** Retry policy for this notifier (default: deliver()'s). */
  retry: retrySchema.optional(),
  timeZone: timeZoneSchema,
});

export type EmailNotifierOptions = z.infer<typeof emailNotifierSchema>;

export interface EmailNotifierDeps {
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  env?: NodeJS.ProcessEnv;
  /** Identity lookups; built lazily from the Keystone options when omitted. */
  directory?: () => IdentityDirectory | null;
  /** Secrets Manager reads (default: Powertools Parameters with the Lambda's role). */
  secretsManager?: SecretsManagerGet;
}

/** Connection-level failures: the server is unreachable, so the remaining messages would fail too. */
const CONNECTION_CODES = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'ETLS',
  'EAUTH',
  'EABORT',
  'ECONFIG',
]);

interface SendFailure {
  key: string;
  message: string;
  retryable: boolean;
}

export class EmailNotifier implements RetryingNotifier {
  readonly name: string;
  readonly retry: Partial<RetryPolicy> | undefined;
  /** Keys of messages accepted by the server, per report: a retry sends only the rest. */
  private readonly sent = new Map<string, Set<string>>();
  private readonly resolutions = new Map<string, Promise<ProjectRecipients[]>>();
  private templates: Promise<LoadedTemplates> | null = null;
  private directory: IdentityDirectory | null | undefined;

  constructor(
    readonly options: EmailNotifierOptions,
    private readonly deps: EmailNotifierDeps = {},
    name = 'email',
  ) {
    this.name = name;
    this.retry = options.retry;
  }

  private settings(): EmailSettings {
    const o = this.options;
    return {
      from: o.from,
      replyTo: o.replyTo ?? null,
      admins: o.admins,
      tenantKinds: o.tenants.kinds,
      tenantsEnabled: o.tenants.enabled,
      addressing: o.tenants.addressing,
      cloudName: o.cloudName,
      timeZone: o.timeZone,
      showHostsToTenants: o.tenants.showHosts,
      contact: o.tenants.contact ?? null,
      subjectPrefix: o.subjectPrefix,
    };
  }

  private identity(): IdentityDirectory | null {
    if (this.directory === undefined) this.directory = this.deps.directory?.() ?? null;
    return this.directory;
  }

  /** One lookup per report: retries of the same report reuse it ("cache per run"). */
  private recipients(report: RecoveryReport, reportKey: string): Promise<ProjectRecipients[]> {
    const settings = this.settings();
    if (!settings.tenantsEnabled || !settings.tenantKinds.includes(report.kind)) return Promise.resolve([]);
    let pending = this.resolutions.get(reportKey);
    if (!pending) {
      let directory: IdentityDirectory | null = null;
      let note: string | null = null;
      try {
        directory = this.options.tenants.keystone === false ? null : this.identity();
      } catch (error) {
        note = `Keystone is not usable: ${(error as Error).message}`;
      }
      const resolver = new RecipientResolver(
        {
          admins: this.options.admins,
          overrides: this.options.tenants.projects,
          roles: this.options.tenants.roles ?? null,
          excludeUsers: this.options.tenants.excludeUsers,
        },
        directory,
        this.deps.logger,
      );
      pending = Promise.all(
        affectedProjects(report).map(async (id) => {
          const found = await resolver.forProject(id);
          return note && found.source === 'admins' ? { ...found, note } : found;
        }),
      );
      this.resolutions.set(reportKey, pending);
      pending.catch(() => this.resolutions.delete(reportKey));
      trim(this.resolutions);
    }
    return pending;
  }

  private async transportOptions(): Promise<{
    options: SMTPPoolOptions & { pool: true };
    secrets: string[];
  }> {
    const smtp = this.options.smtp;
    const deps = { env: this.deps.env ?? process.env, secretsManager: this.deps.secretsManager };
    const auth = smtp.auth
      ? {
          user: smtp.auth.user,
          pass: await readSecret(
            { file: smtp.auth.passwordFile, env: smtp.auth.passwordEnv, secret: smtp.auth.passwordSecret },
            deps,
            'SMTP password',
            'password',
          ),
        }
      : undefined;
    const port = smtp.port ?? (smtp.security === 'tls' ? 465 : smtp.security === 'none' ? 25 : 587);
    let ca: string | undefined;
    if (smtp.caFile) {
      try {
        ca = readFileSync(smtp.caFile, 'utf8');
      } catch (error) {
        throw new NotifierError(
          `cannot read smtp.caFile ${smtp.caFile} (${(error as NodeJS.ErrnoException).code})`,
          false,
        );
      }
    }
    return {
      options: {
        host: smtp.host,
        port,
        secure: smtp.security === 'tls',
        requireTLS: smtp.security === 'starttls',
        ignoreTLS: smtp.security === 'none',
        ...(auth ? { auth } : {}),
        ...(smtp.clientName ? { name: smtp.clientName } : {}),
        tls: { rejectUnauthorized: smtp.rejectUnauthorized, ...(ca ? { ca } : {}) },
        connectionTimeout: smtp.connectionTimeoutMs,
        greetingTimeout: smtp.connectionTimeoutMs,
        socketTimeout: smtp.socketTimeoutMs,
        // One connection carries every message of the report, one after the other.
        pool: true,
        maxConnections: 1,
        // Never let the library log the conversation: AUTH lines carry the password.
        logger: false,
        debug: false,
      },
      secrets: auth ? [auth.pass, Buffer.from(auth.pass).toString('base64')] : [],
    };
  }

  async notify(report: RecoveryReport, options: NotifyOptions = {}): Promise<void> {
    const reportKey = [report.incident, report.executionName ?? '', report.kind, report.finishedAt].join('|');
    this.templates ??= loadTemplates(this.options.templates);
    const loaded = await this.templates;
    const recipients = await this.recipients(report, reportKey);
    const { messages, problems } = composeEmails({
      report,
      settings: this.settings(),
      recipients,
      templates: loaded.templates,
      notes: loaded.problems,
    });
    for (const problem of [...loaded.problems, ...problems])
      this.deps.logger?.warn('email template problem', { problem });

    const done = this.sent.get(reportKey) ?? new Set<string>();
    this.sent.set(reportKey, done);
    trim(this.sent);
    const pending = messages.filter((m) => !done.has(m.key));
    if (!pending.length) return;

    const { options: transportOptions, secrets } = await this.transportOptions();
    const transport = nodemailer.createTransport(transportOptions);
    const failures: SendFailure[] = [];
    try {
      for (const [index, message] of pending.entries()) {
        try {
          await transport.sendMail(this.mail(message, options.signal));
          done.add(message.key);
          this.deps.logger?.info('notification email sent', {
            audience: message.audience,
            projectId: message.projectId,
            recipients: message.to.length + message.bcc.length,
          });
        } catch (error) {
          const failure = describeSmtpError(error, message, secrets);
          failures.push(failure);
          if (CONNECTION_CODES.has((error as { code?: string }).code ?? '')) {
            // The server (or our credentials) is the problem, not this message: stop here.
            for (const rest of pending.slice(index + 1)) {
              failures.push({ key: rest.key, message: 'not attempted', retryable: failure.retryable });
            }
            break;
          }
        }
      }
    } finally {
      transport.close();
    }
    if (failures.length) {
      const first = failures.filter((f) => f.message !== 'not attempted');
      throw new NotifierError(
        `${failures.length} of ${messages.length} email(s) not sent: ${first.map((f) => `${f.key}: ${f.message}`).join('; ')}`,
        failures.some((f) => f.retryable),
      );
    }
  }

  private mail(message: OutgoingEmail, signal: AbortSignal | undefined) {
    return {
      from: this.options.from,
      ...(this.options.replyTo ? { replyTo: this.options.replyTo } : {}),
      ...(message.to.length ? { to: message.to } : {}),
      ...(message.bcc.length ? { bcc: message.bcc } : {}),
      subject: message.subject,
      text: message.text,
      html: message.html,
      messageId: message.messageId,
      headers: message.headers,
      priority: message.priority,
      ...(signal ? { signal } : {}),
    };
  }
}

function describeSmtpError(error: unknown, message: OutgoingEmail, secrets: string[]): SendFailure {
  const e = error as {
    code?: string;
    responseCode?: number;
    response?: string;
    permanent?: boolean;
    message?: string;
  };
  const detail = e.response
    ? `${e.code ?? 'error'} ${e.response}`
    : `${e.code ?? 'error'}: ${e.message ?? String(error)}`;
  // 5xx replies (and bad credentials) will be refused again; connection trouble may pass.
  const retryable = e.permanent !== true && !(e.responseCode && e.responseCode >= 500);
  return { key: message.key, message: redact(detail.replace(/\s+/g, ' ').slice(0, 300), secrets), retryable };
}

/** Bounded memory in a warm Lambda: keep the most recent reports only. */
function trim(map: Map<string, unknown>, max = 20): void {
  while (map.size > max) map.delete(map.keys().next().value as string);
}

/** The registry's factory. Keystone: the named cloud, else the simulated cloud, else OS_CLOUD / OS_*. */
export function createEmailNotifier(
  options: EmailNotifierOptions,
  context: { logger: Logger; env: NodeJS.ProcessEnv; simulated: { connection: Connection } | null },
): EmailNotifier {
  const keystone = options.tenants.keystone;
  const connection = (): Connection => {
    const cloud = keystone === false ? undefined : keystone.cloud;
    if (!cloud && context.simulated) return context.simulated.connection;
    return resolveConnection(cloud ? { cloud } : {}, context.env);
  };
  return new EmailNotifier(options, {
    logger: context.logger,
    env: context.env,
    directory: () =>
      keystone === false
        ? null
        : new KeystoneDirectory(new KeystoneSession(connection(), { timeoutMs: keystone.timeoutMs })),
  });
}
