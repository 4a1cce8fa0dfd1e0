// Chat notifiers against a local HTTP server: the Slack-compatible payload (text +
// blocks, escaped), the generic JSON payload, retries on 5xx, no retries on 4xx.
import { afterEach, describe, expect, it } from 'vitest';
import { deliverReport } from '../../core/deliver-report.js';
import {
  SlackNotifier,
  slackNotifierSchema,
  WebhookNotifier,
  webhookNotifierSchema,
} from '../../drivers/notifier/chat.js';
import { type HttpSink, sampleReport, startHttpSink } from '../support/notify-fixtures.js';

let sink: HttpSink;
afterEach(async () => sink?.close());

const fast = { retry: { attempts: 3, initialDelayMs: 5, maxDelayMs: 20 } };
const SECRET_PATH = '/services/T0000/B0000/XXXXsecretXXXX';

const slack = (extra: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}) =>
  new SlackNotifier(slackNotifierSchema.parse({ driver: 'slack', url: { env: 'SLACK_URL' }, ...extra }), {
    env: { SLACK_URL: `${sink.url}${SECRET_PATH}`, ...env },
  });

type Block = {
  type: string;
  text?: { text: string };
  fields?: { text: string }[];
  elements?: { url?: string }[];
};

describe('Slack-compatible webhook', () => {
  it('posts text and blocks with the same summary, escaped for mrkdwn', async () => {
    sink = await startHttpSink([200]);
    const report = sampleReport();
    report.instances[0] = {
      ...(report.instances[0] as (typeof report.instances)[number]),
      name: '<!channel> web-1',
    };
    const [result] = await deliverReport([slack({ mention: '<!here>' })], report, fast);
    expect(result).toEqual({ notifier: 'slack', ok: true, attempts: 1, error: null });
    const [request] = sink.requests;
    expect(request?.path).toBe(SECRET_PATH);
    expect(request?.headers['content-type']).toContain('application/json');
    const body = request?.body as { text: string; blocks: Block[] };
    expect(body.text).toMatch(/^<!here> \*ACTION NEEDED: compute-7 failed, 1 of 6 instances NOT recovered\*/);
    expect(body.text).toContain('`&lt;!channel&gt; web-1` recovered on compute-2 in 42.3 s (ACTIVE)');
    expect(body.text).toContain('`db-&lt;script&gt;alert(1)&lt;/script&gt;`');
    expect(body.text).not.toContain('<!channel>');
    expect(body.text).toContain(
      '<https://console.example.org/states/executions/compute-7-1a30ba71|compute-7-1a30ba71>',
    );
    expect(body.blocks[0]).toMatchObject({ type: 'header' });
    expect(body.blocks.map((b) => b.type)).toEqual([
      'header',
      'section',
      'section',
      'section',
      'section',
      'actions',
      'context',
    ]);
    const instances = body.blocks[3]?.text?.text ?? '';
    expect(instances).toContain('❌ `café-worker` NOT recovered: Instance.NotSettled');
    expect(body.blocks[4]?.text?.text).toContain('What to do next');
    expect(body.blocks[5]?.elements?.[0]?.url).toBe(
      'https://console.example.org/states/executions/compute-7-1a30ba71',
    );
  });

  it('caps the instance list', async () => {
    sink = await startHttpSink([200]);
    await deliverReport([slack({ maxInstances: 2 })], sampleReport(), fast);
    const body = sink.requests[0]?.body as { text: string };
    expect(body.text).toContain('...and 4 more');
  });

  it('retries a 500 and succeeds', async () => {
    sink = await startHttpSink([500, 200]);
    const [result] = await deliverReport([slack()], sampleReport(), fast);
    expect(result).toEqual({ notifier: 'slack', ok: true, attempts: 2, error: null });
    expect(sink.requests).toHaveLength(2);
  });

  it('reports a permanent 500 as failed after the bounded retries, without throwing or leaking the URL', async () => {
    sink = await startHttpSink([500]);
    const results = await deliverReport([slack()], sampleReport(), fast);
    expect(results).toEqual([
      { notifier: 'slack', ok: false, attempts: 3, error: 'webhook answered HTTP 500: rollup_error' },
    ]);
    expect(sink.requests).toHaveLength(3);
  });

  it('does not retry a 4xx: the payload or the URL is wrong', async () => {
    sink = await startHttpSink([404]);
    const [result] = await deliverReport([slack()], sampleReport(), fast);
    expect(result).toMatchObject({
      ok: false,
      attempts: 1,
      error: 'webhook answered HTTP 404: invalid_payload',
    });
  });

  it('fails cleanly when the URL secret is missing, and refuses a URL in the config that is not http(s)', async () => {
    sink = await startHttpSink([200]);
    const n = new SlackNotifier(slackNotifierSchema.parse({ driver: 'slack', url: { env: 'NOPE' } }), {
      env: {},
    });
    const [result] = await deliverReport([n], sampleReport(), fast);
    expect(result).toMatchObject({
      ok: false,
      attempts: 1,
      error: 'webhook URL: environment variable NOPE is not set',
    });
    expect(slackNotifierSchema.safeParse({ driver: 'slack', url: 'file:///etc/passwd' }).success).toBe(false);
    expect(slackNotifierSchema.safeParse({ driver: 'slack', url: { env: 'X', file: '/x' } }).success).toBe(
      false,
    );
  });
});

describe('generic JSON webhook', () => {
  it('posts the report with its summary and secret headers from the environment', async () => {
    sink = await startHttpSink([503, 200]);
    const n = new WebhookNotifier(
      webhookNotifierSchema.parse({
        driver: 'webhook',
        url: `${sink.url}/hooks/freezer`,
        headers: { 'X-Source': 'freezer-dr', Authorization: { env: 'HOOK_AUTH' } },
      }),
      { env: { HOOK_AUTH: 'Bearer hook-token-123' } },
    );
    const [result] = await deliverReport([n], sampleReport({ kind: 'fencing-failed' }), fast);
    expect(result).toMatchObject({ ok: true, attempts: 2 });
    const request = sink.requests[1];
    expect(request?.headers.authorization).toBe('Bearer hook-token-123');
    expect(request?.headers['x-source']).toBe('freezer-dr');
    expect(request?.body).toMatchObject({
      source: 'freezer-dr',
      schemaVersion: 1,
      kind: 'fencing-failed',
      actionNeeded: true,
      title: 'ACTION NEEDED: compute-7 could not be fenced, nothing was evacuated',
      host: 'compute-7',
      executionUrl: 'https://console.example.org/states/executions/compute-7-1a30ba71',
      counts: { selected: 6 },
    });
    const body = request?.body as {
      nextSteps: string[];
      instances: { name: string; toHost: string | null; seconds: number | null }[];
    };
    expect(body.nextSteps[0]).toBe('Do not evacuate by hand until compute-7 is known to be off.');
    expect(body.instances[0]).toMatchObject({ name: 'web-1', toHost: 'compute-2', seconds: 42.3 });
  });

  it('never puts the secret header value in an error', async () => {
    sink = await startHttpSink([401]);
    const n = new WebhookNotifier(
      webhookNotifierSchema.parse({
        driver: 'webhook',
        url: sink.url,
        headers: { Authorization: { env: 'HOOK_AUTH' } },
      }),
      { env: { HOOK_AUTH: 'Bearer hook-token-123' } },
    );
    const [result] = await deliverReport([n], sampleReport(), fast);
    expect(result?.ok).toBe(false);
    expect(result?.error).not.toContain('hook-token-123');
  });
});
