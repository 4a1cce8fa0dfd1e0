// Email notifier: nodemailer over SMTP. Per report, one message to the administrators
// and one per affected project (to that project's users only). The SMTP password is
// read at send time from a file or an environment variable and never logged.
import { readFileSync } from 'node:fs';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Options as SMTPPoolOptions } from 'nodemailer/lib/smtp-pool';
import { type RetryingNotifier, type RetryPolicy, retrySchema } from '../../core/deliver-report.js';
import { NOTIFICATION_KINDS, type NotifyOptions, type RecoveryReport } from '../../core/ports.js';
import { type SecretRef, type SecretsManagerGet, secretRef } from '../../core/secrets.js';
import * as z from '../../core/zod.js';
import { type CredentialOptions, openstackConnection } from '../cloud/openstack/connection-source.js';
import type { Connection } from '../cloud/openstack/credentials.js';
import { sharedSession } from '../cloud/openstack/session.js';
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
import { readNotifierSecret } from './secret-source.js';
import { type LoadedTemplates, loadTemplates } from './template-loader.js';

// Mailer over an SMTP pool is what nodemailer.createTransport({pool: true}) builds; importing
// just those keeps its other transports (SES, sendmail, ...) out of the Lambda bundles, and
// importing them on the first message keeps nodemailer out of every cold start (notify's,
// the reconciler's) that sends no mail.
const smtpClasses = async () => {
  const [mailer, pool] = await Promise.all([
    import('nodemailer/lib/mailer'),
    import('nodemailer/lib/smtp-pool'),
  ]);
  return { Mailer: mailer.default, SMTPPool: pool.default };
};

const kinds = z.enum(NOTIFICATION_KINDS);
const address = z.string().check(z.refine(isAddress, { message: 'not an email address' }));

export const emailNotifierSchema = z.strictObject({
  driver: z.literal('email'),
  /** Envelope and header sender, e.g. "freezer-dr <freezer-dr@cloud.example.org>". */
  from: z.string().check(z.minLength(3)),
  replyTo: z.optional(z.string()),
  /** Administrators: get every report, and a project's message when it has no address. */
  admins: z.array(address).check(z.minLength(1)),
  smtp: z.strictObject({
    host: z.string().check(z.minLength(1)),
    /** Default: 465 for tls, 25 for none, else 587. */
    port: z.optional(z.int().check(z.minimum(1), z.maximum(65535))),
    /** tls: TLS from the first byte (465); starttls: upgrade required; opportunistic: upgrade if offered; none: plain. */
    security: z._default(z.enum(['tls', 'starttls', 'opportunistic', 'none']), 'starttls'),
    auth: z.optional(
      z.strictObject({
        user: z.string().check(z.minLength(1)),
        /** Where the password is: {file}, {env} or {secret} (its string, or the "password" field of its JSON). */
        password: secretRef,
      }),
    ),
    /** PEM bundle for a private CA. */
    caFile: z.optional(z.string()),
    rejectUnauthorized: z._default(z.boolean(), true),
    /** Name sent with EHLO. */
    clientName: z.optional(z.string()),
    connectionTimeoutMs: z._default(z.positiveInt(), 10_000),
    socketTimeoutMs: z._default(z.positiveInt(), 30_000),
  }),
  tenants: z.prefault(
    z.strictObject({
      enabled: z._default(z.boolean(), true),
      kinds: z._default(z.array(kinds), DEFAULT_TENANT_KINDS),
      addressing: z._default(z.enum(['bcc', 'to']), 'bcc'),
      /** Only users with one of these roles on the project; omit for any role. */
      roles: z.optional(z.array(z.string()).check(z.minLength(1))),
      /** User names or ids never mailed as tenants (service and cloud-admin accounts). */
      excludeUsers: z._default(z.array(z.string()), []),
      /** Project id or name -> addresses, used instead of the Keystone lookup. */
      projects: z._default(z.record(z.string(), z.array(address)), {}),
      showHosts: z._default(z.boolean(), false),
      contact: z.optional(z.string()),
      /** Keystone for the users' addresses: a clouds.yaml cloud (default: as the cloud driver), or false. */
      keystone: z._default(
        z.union([
          z.literal(false),
          z.strictObject({
            cloud: z.optional(z.string()),
            /** One Keystone request. */
            timeoutMs: z._default(z.positiveInt(), 15_000),
            /**
             * All the lookups of one report: a project still unresolved then goes to the
             * admins (with a note), so a slow Keystone delays no message past it. Well under
             * deliver()'s 40 s attempt timeout, or a slow Keystone would cost every message.
             */
            deadlineMs: z._default(z.int().check(z.minimum(100), z.maximum(30_000)), 8_000),
          }),
        ]),
        { timeoutMs: 15_000, deadlineMs: 8_000 },
      ),
    }),
    {},
  ),
  /** Directory with admin.{mjs,js,ts} / tenant.{mjs,js,ts} replacing built-in templates. */
  templates: z.optional(z.string()),
  subjectPrefix: z._default(z.string(), '[freezer-dr]'),
  cloudName: z._default(z.string(), 'OpenStack'),
  /** Retry policy for this notifier (default: deliver()'s). */
  retry: z.optional(retrySchema),
  timeZone: timeZoneSchema,
});

export type EmailNotifierOptions = z.infer<typeof emailNotifierSchema>;

export interface EmailNotifierDeps {
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  env?: NodeJS.ProcessEnv;
  /** Identity lookups; built lazily from the Keystone options when omitted. */
  directory?: () => IdentityDirectory | null | Promise<IdentityDirectory | null>;
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
  /** Per report, one lookup per affected project; a retry reuses them, finished or not. */
  private readonly resolutions = new Map<string, Map<string, Promise<ProjectRecipients>>>();
  private templates: Promise<LoadedTemplates> | null = null;
  private directory: Promise<IdentityDirectory | null> | undefined;

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

  /** Built on first use; a failure (credentials unreadable) is tried again with the next report. */
  private identity(): Promise<IdentityDirectory | null> {
    this.directory ??= (async () => (await this.deps.directory?.()) ?? null)();
    this.directory.catch(() => {
      this.directory = undefined;
    });
    return this.directory;
  }

  /**
   * Every affected project's recipients, all looked up at once. A project Keystone has not
   * answered for by the deadline goes to the admins; its lookup goes on, and a retry of
   * the same report uses it ("cache per run").
   */
  private async recipients(report: RecoveryReport, reportKey: string): Promise<ProjectRecipients[]> {
    const settings = this.settings();
    if (!settings.tenantsEnabled || !settings.tenantKinds.includes(report.kind)) return [];
    let lookups = this.resolutions.get(reportKey);
    if (!lookups) {
      lookups = this.lookupProjects(affectedProjects(report));
      this.resolutions.set(reportKey, lookups);
      trim(this.resolutions);
    }
    const keystone = this.options.tenants.keystone;
    const deadlineMs = keystone === false ? null : keystone.deadlineMs;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => {
      if (deadlineMs !== null) timer = setTimeout(() => resolve(null), deadlineMs);
    });
    try {
      return await Promise.all(
        [...lookups].map(async ([projectId, lookup]) => {
          const found = await Promise.race([lookup, late]);
          if (found) return found;
          this.deps.logger?.warn('Keystone lookup of project users past its deadline', {
            projectId,
            deadlineMs,
          });
          return {
            projectId,
            projectName: null,
            addresses: [...this.options.admins],
            source: 'admins' as const,
            note: `the Keystone lookup of its users did not finish within ${(deadlineMs ?? 0) / 1000} s`,
          };
        }),
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /** Starts one lookup per project (never rejecting: a failure falls back to the admins). */
  private lookupProjects(projectIds: string[]): Map<string, Promise<ProjectRecipients>> {
    const resolver = (async () => {
      let directory: IdentityDirectory | null = null;
      let note: string | null = null;
      try {
        directory = this.options.tenants.keystone === false ? null : await this.identity();
      } catch (error) {
        note = `Keystone is not usable: ${(error as Error).message}`;
      }
      const policy = {
        admins: this.options.admins,
        overrides: this.options.tenants.projects,
        roles: this.options.tenants.roles ?? null,
        excludeUsers: this.options.tenants.excludeUsers,
      };
      return { resolver: new RecipientResolver(policy, directory, this.deps.logger), note };
    })();
    return new Map(
      projectIds.map((id) => [
        id,
        resolver
          .then(async ({ resolver, note }) => {
            const found = await resolver.forProject(id);
            return note && found.source === 'admins' ? { ...found, note } : found;
          })
          .catch(
            (error: Error): ProjectRecipients => ({
              projectId: id,
              projectName: null,
              addresses: [...this.options.admins],
              source: 'admins',
              note: `the Keystone lookup of its users failed: ${error.message}`,
            }),
          ),
      ]),
    );
  }

  /** Read at send time: a rotated password is used from the next report on. */
  private async password(ref: SecretRef): Promise<string> {
    return readNotifierSecret(ref, {
      what: 'SMTP password',
      field: 'password',
      env: this.deps.env,
      secretsManager: this.deps.secretsManager,
    });
  }

  private async transportOptions(): Promise<{
    options: SMTPPoolOptions & { pool: true };
    secrets: string[];
  }> {
    const smtp = this.options.smtp;
    const auth = smtp.auth
      ? { user: smtp.auth.user, pass: await this.password(smtp.auth.password) }
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
    // The SMTP password (a Secrets Manager read on AWS) is fetched while Keystone answers.
    const transport = this.transportOptions();
    transport.catch(() => undefined);
    const [loaded, recipients] = await Promise.all([this.templates, this.recipients(report, reportKey)]);
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

    const [{ options: transportOptions, secrets }, { Mailer, SMTPPool }] = await Promise.all([
      transport,
      smtpClasses(),
    ]);
    // One connection for the whole report (pool of one): the messages follow each other on it.
    const mailer = new Mailer(new SMTPPool(transportOptions), transportOptions);
    const failures: SendFailure[] = [];
    try {
      for (const [index, message] of pending.entries()) {
        try {
          await mailer.sendMail(this.mail(message, options.signal));
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
      mailer.close();
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

/**
 * The registry's factory. Keystone: the named cloud, else the simulated cloud, else the
 * cloud driver's credentials (its clouds.yaml secret, OPENSTACK_SECRET_ID, OS_CLOUD / OS_*).
 */
export function createEmailNotifier(
  options: EmailNotifierOptions,
  context: {
    logger: Logger;
    env: NodeJS.ProcessEnv;
    simulated: { connection: Connection } | null;
    cloudCredentials?: CredentialOptions | undefined;
  },
): EmailNotifier {
  const keystone = options.tenants.keystone;
  const connection = (): Promise<Connection> | Connection => {
    const cloud = keystone === false ? undefined : keystone.cloud;
    if (!cloud && context.simulated) return context.simulated.connection;
    const credentials = { ...context.cloudCredentials, ...(cloud ? { cloud } : {}) };
    return openstackConnection(credentials, { env: context.env });
  };
  return new EmailNotifier(options, {
    logger: context.logger,
    env: context.env,
    directory: async () => {
      if (keystone === false) return null;
      // The cloud driver's session (and token) when the credentials are the same.
      const session = sharedSession(await connection(), { timeoutMs: keystone.timeoutMs });
      return new KeystoneDirectory({
        endpoint: (service) => session.endpoint(service),
        request: (options) => session.request({ ...options, timeoutMs: keystone.timeoutMs }),
      });
    },
  });
}
