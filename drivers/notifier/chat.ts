// Chat notifiers: a Slack-compatible incoming webhook (text + Block Kit blocks) and a
// generic JSON webhook, both carrying the administrators' summary. Webhook URLs are
// credentials (the path is the token), so they are read from a file or environment
// variable when asked, and never appear in logs or errors.

import { type RetryingNotifier, type RetryPolicy, retrySchema } from '../../core/deliver-report.js';
import type { NotifyOptions, RecoveryReport } from '../../core/ports.js';
import { type SecretRef, type SecretsManagerGet, secretRef } from '../../core/secrets.js';
import * as z from '../../core/zod.js';
import { HttpFailure, requestJson } from '../http-json.js';
import { adminView, type MessageView, timeZoneSchema, type ViewSettings } from './message-view.js';
import { NotifierError, redact } from './notifier-error.js';
import { readNotifierSecret } from './secret-source.js';

const httpUrl = z.url({ protocol: /^https?$/ });
/** A value in the config (only when it is not secret), or where it is: {file}, {env} or {secret}. */
const valueOrSecret = <T extends z.ZodMiniType<string>>(plain: T, what: string) =>
  z.union([plain, secretRef], { error: `must be ${what}, or {file}, {env} or {secret} naming where it is` });

const target = {
  /** The webhook URL, or where it is (a Secrets Manager secret: its string, or the "url" field of its JSON). */
  url: valueOrSecret(httpUrl, 'an http(s) URL'),
  timeoutMs: z._default(z.positiveInt(), 10_000),
  cloudName: z._default(z.string(), 'OpenStack'),
  timeZone: timeZoneSchema,
  /** Retry policy for this notifier (default: deliver()'s). */
  retry: z.optional(retrySchema),
};

export const slackNotifierSchema = z.strictObject({
  driver: z.literal('slack'),
  ...target,
  /** Put in front of reports that need action, e.g. "<!here>" or "<!subteam^S0123>". */
  mention: z.optional(z.string()),
  /** Instances listed before "...and N more". */
  maxInstances: z._default(z.positiveInt().check(z.maximum(100)), 25),
});

export const webhookNotifierSchema = z.strictObject({
  driver: z.literal('webhook'),
  ...target,
  /** Extra request headers: a value, or where a secret one is (e.g. Authorization: {env: EVENTS_TOKEN}). */
  headers: z._default(z.record(z.string(), valueOrSecret(z.string(), 'a string')), {}),
});

export type SlackNotifierOptions = z.infer<typeof slackNotifierSchema>;
export type WebhookNotifierOptions = z.infer<typeof webhookNotifierSchema>;

function settings(o: { cloudName: string; timeZone: string }): ViewSettings {
  return {
    cloudName: o.cloudName,
    timeZone: o.timeZone,
    showHostsToTenants: true,
    contact: null,
    subjectPrefix: '',
  };
}

/** Where the notifiers get their environment and secrets; tests replace both. */
export interface ChatDeps {
  env?: NodeJS.ProcessEnv;
  secretsManager?: SecretsManagerGet;
}

/** A plain value as it is; a secret read now (a rotated one is picked up on the next report). */
async function resolve(
  value: string | SecretRef,
  what: string,
  field: string,
  deps: ChatDeps,
): Promise<string> {
  if (typeof value === 'string') return value;
  return readNotifierSecret(value, { what, field, env: deps.env, secretsManager: deps.secretsManager });
}

async function resolveUrl(o: { url: string | SecretRef }, deps: ChatDeps): Promise<string> {
  const url = await resolve(o.url, 'webhook URL', 'url', deps);
  if (!/^https?:\/\/[^\s]+$/.test(url))
    throw new NotifierError('webhook URL from the secret is not an http(s) URL', false);
  return url;
}

/** The text both chat formats share: one line per fact, instances capped. */
export function summaryLines(
  view: MessageView,
  maxInstances: number,
  format: (i: MessageView['instances'][number]) => string,
) {
  const shown = view.instances.slice(0, maxInstances).map(format);
  const more = view.instances.length - shown.length;
  return more > 0 ? [...shown, `...and ${more} more (see the email or the execution)`] : shown;
}

/** Slack mrkdwn: &, < and > must be entities, or a name like "<!channel>" would ping everyone. */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

export function slackPayload(
  report: RecoveryReport,
  options: Pick<SlackNotifierOptions, 'cloudName' | 'timeZone' | 'mention' | 'maxInstances'>,
) {
  const v = adminView(report, settings(options));
  const e = slackEscape;
  const code = (s: string) => `\`${e(s.replace(/`/g, "'"))}\``;
  const mention = v.actionNeeded && options.mention ? `${options.mention} ` : '';
  const instanceLines = summaryLines(
    v,
    options.maxInstances,
    (i) => `${i.ok ? '✅' : '❌'} ${code(i.name)} ${e(i.summary)}`,
  );
  const link = v.executionUrl
    ? `<${v.executionUrl.replace(/[|>]/g, encodeURIComponent)}|${e(v.executionName ?? 'execution')}>`
    : null;
  const fence = v.fence ? e(v.fence.summary) : 'not attempted';
  const steps = v.nextSteps.map((s, n) => `${n + 1}. ${e(s)}`).join('\n');
  const text = [
    `${mention}*${e(v.title)}*`,
    e(v.headline),
    `Cause: ${e(v.cause ?? '-')}`,
    `Fencing: ${fence}`,
    ...(instanceLines.length ? ['Instances:', ...instanceLines] : []),
    ...(steps ? ['What to do next:', steps] : []),
    ...(link ? [`Execution: ${link}`] : []),
  ].join('\n');
  const blocks: unknown[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: clip(`${v.cloudName}: ${v.title}`, 150), emoji: true },
    },
    { type: 'section', text: { type: 'mrkdwn', text: clip(`${mention}${e(v.headline)}`, 3000) } },
    {
      type: 'section',
      fields: [
        `*Host*\n${e(v.host ?? '-')}`,
        `*Kind*\n${e(v.kindLabel)}`,
        `*Cause*\n${e(v.cause ?? '-')}`,
        `*Fencing*\n${fence}`,
        `*Started*\n${e(v.startedAt)}`,
        `*Duration*\n${e(v.duration)}`,
      ].map((t) => ({ type: 'mrkdwn', text: clip(t, 2000) })),
    },
  ];
  if (instanceLines.length) {
    const counts = `${v.counts.recovered} recovered, ${v.counts.failed} failed, ${v.counts.skipped} skipped`;
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: clip(`*Instances* (${counts})\n${instanceLines.join('\n')}`, 3000) },
    });
  }
  if (steps)
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: clip(`*What to do next*\n${steps}`, 3000) },
    });
  if (v.executionUrl && /^https?:\/\//.test(v.executionUrl)) {
    blocks.push({
      type: 'actions',
      elements: [
        { type: 'button', text: { type: 'plain_text', text: 'Open the execution' }, url: v.executionUrl },
      ],
    });
  }
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: e(`freezer-dr · incident ${v.incident}`) }],
  });
  return { text: clip(text, 39_000), blocks };
}

/** Generic JSON: the report's facts plus the rendered summary, versioned for receivers. */
export function webhookPayload(
  report: RecoveryReport,
  options: Pick<WebhookNotifierOptions, 'cloudName' | 'timeZone'>,
) {
  const v = adminView(report, settings(options));
  return {
    source: 'freezer-dr',
    schemaVersion: 1,
    cloud: v.cloudName,
    kind: report.kind,
    actionNeeded: v.actionNeeded,
    title: v.title,
    summary: v.headline,
    nextSteps: v.nextSteps,
    host: report.host,
    incident: report.incident,
    cause: report.cause,
    executionName: report.executionName,
    executionUrl: report.executionUrl,
    startedAt: report.startedAt,
    finishedAt: report.finishedAt,
    fence: report.fence,
    counts: report.counts,
    timeline: report.timeline,
    instances: report.instances.map((i, n) => ({ ...i, summary: v.instances[n]?.summary ?? null })),
    text: [v.title, v.headline, ...summaryLines(v, 100, (i) => `- ${i.name}: ${i.summary}`)].join('\n'),
  };
}

/** POSTs JSON; 5xx, 408, 429 and network errors may pass, other answers will not. */
async function post(
  url: string,
  body: unknown,
  options: {
    timeoutMs: number;
    headers?: Record<string, string>;
    signal?: AbortSignal | undefined;
    secrets: string[];
  },
): Promise<void> {
  let status: number;
  let data: unknown;
  let retryAfter: string | undefined;
  try {
    const response = await requestJson(url, {
      method: 'POST',
      body,
      timeoutMs: options.timeoutMs,
      ...(options.headers ? { headers: options.headers } : {}),
      signal: options.signal,
      anyStatus: true,
    });
    status = response.status;
    data = response.data;
    retryAfter = response.headers.get('retry-after') ?? undefined;
  } catch (error) {
    const code = error instanceof HttpFailure ? error.code : 'error';
    throw new NotifierError(
      redact(`webhook request failed (${code}): ${(error as Error).message}`, options.secrets),
      true,
    );
  }
  if (status >= 200 && status < 300) return;
  const text = typeof data === 'string' ? data : JSON.stringify(data);
  const reply = text.replace(/\s+/g, ' ').slice(0, 200);
  const error = new NotifierError(
    redact(`webhook answered HTTP ${status}${reply ? `: ${reply}` : ''}`, options.secrets),
    status >= 500 || status === 408 || status === 429,
  );
  const seconds = Number(retryAfter);
  if (Number.isFinite(seconds) && seconds > 0) Object.assign(error, { retryAfterMs: seconds * 1000 });
  throw error;
}

export class SlackNotifier implements RetryingNotifier {
  readonly retry: Partial<RetryPolicy> | undefined;

  constructor(
    readonly options: SlackNotifierOptions,
    private readonly deps: ChatDeps = {},
    readonly name = 'slack',
  ) {
    this.retry = options.retry;
  }

  async notify(report: RecoveryReport, options: NotifyOptions = {}): Promise<void> {
    const url = await resolveUrl(this.options, this.deps);
    await post(url, slackPayload(report, this.options), {
      timeoutMs: this.options.timeoutMs,
      signal: options.signal,
      secrets: [url, new URL(url).pathname],
    });
  }
}

export class WebhookNotifier implements RetryingNotifier {
  readonly retry: Partial<RetryPolicy> | undefined;

  constructor(
    readonly options: WebhookNotifierOptions,
    private readonly deps: ChatDeps = {},
    readonly name = 'webhook',
  ) {
    this.retry = options.retry;
  }

  async notify(report: RecoveryReport, options: NotifyOptions = {}): Promise<void> {
    const url = await resolveUrl(this.options, this.deps);
    const headers: Record<string, string> = {};
    const secrets = [url, new URL(url).pathname];
    for (const [header, value] of Object.entries(this.options.headers)) {
      headers[header] = await resolve(value, `webhook header ${header}`, 'value', this.deps);
      if (typeof value !== 'string') secrets.push(headers[header]);
    }
    await post(url, webhookPayload(report, this.options), {
      timeoutMs: this.options.timeoutMs,
      headers,
      signal: options.signal,
      secrets,
    });
  }
}
