// Faults in telling people: an SMTP server or a chat webhook that is down, hangs or fails
// never stops or fails a recovery, and never hides a fencing failure. The failure is
// recorded in the execution's output.
import { afterEach, describe, expect } from 'vitest';
import { closedPort, silentServer, startHttpSink } from '../support/notify-fixtures.js';
import { type CaseContext, faultGroup } from './support/campaign.js';
import { expectRecovered, expectUntouched, failHost } from './support/checks.js';
import { completed, describeRun, type Scene, startScene } from './support/scene.js';

const faultCase = faultGroup('notify');
let scene: Scene | null = null;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await scene?.close();
  scene = null;
  for (const close of closers.splice(0)) await close();
});

const RETRY = { attempts: 2, initialDelayMs: 20 };
const email = (port: number) => ({
  driver: 'email',
  from: 'freezer-dr@cloud.example',
  admins: ['ops@cloud.example'],
  smtp: { host: '127.0.0.1', port, security: 'none', connectionTimeoutMs: 500, socketTimeoutMs: 500 },
  retry: RETRY,
});
const webhook = (url: string) => ({ driver: 'webhook', url, timeoutMs: 500, retry: RETRY });
const slack = (url: string) => ({ driver: 'slack', url, timeoutMs: 500, retry: RETRY });

interface Notifications {
  delivered: number;
  failed: number;
  results: { notifier: string; ok: boolean; attempts: number; error: string | null }[];
}

/** compute-1 fails with this notifier configured: the recovery must complete, the notifier fail. */
async function recoversUnheard(c: CaseContext, notifier: Record<string, unknown>) {
  scene = await startScene({ notifiers: [notifier] });
  const s = scene;
  c.witness(s.evidence);
  const servers = failHost(s, 'compute-1');
  const run = await s.recover('compute-1');
  expectRecovered(s, servers, 'compute-1');
  const notifications = (run.outcome.output as { notifications: Notifications }).notifications;
  const failedOne = notifications.results.find((r) => r.notifier !== 'memory');
  expect(failedOne).toMatchObject({ ok: false });
  return {
    actual: `${describeRun(run)}; ${failedOne?.notifier} failed after ${failedOne?.attempts} attempts (${(failedOne?.error ?? '').slice(0, 60)})`,
    completed: Number(completed(run)),
  };
}

describe('notifier faults', () => {
  faultCase(
    {
      name: 'smtp-down',
      fault: 'nothing listens on the SMTP port',
      expected: 'recovery completes; the email failure is recorded in the execution',
      completions: 1,
    },
    async (c) => recoversUnheard(c, email(await closedPort())),
  );

  faultCase(
    {
      name: 'smtp-hangs',
      fault: 'the SMTP server accepts the connection and never speaks',
      expected: 'gives up after the timeout; recovery completes; failure recorded',
      completions: 1,
    },
    async (c) => {
      const silent = await silentServer();
      closers.push(() => silent.close());
      return recoversUnheard(c, email(silent.port));
    },
  );

  faultCase(
    {
      name: 'chat-webhook-down',
      fault: 'nothing listens at the chat webhook URL',
      expected: 'recovery completes; the webhook failure is recorded',
      completions: 1,
    },
    async (c) => recoversUnheard(c, webhook(`http://127.0.0.1:${await closedPort()}/hook`)),
  );

  faultCase(
    {
      name: 'chat-webhook-500',
      fault: 'the Slack webhook answers 500 every time',
      expected: 'retried, then recorded as failed; recovery completes',
      completions: 1,
    },
    async (c) => {
      const sink = await startHttpSink([500]);
      closers.push(() => sink.close());
      const outcome = await recoversUnheard(c, slack(`${sink.url}/services/T0/B0/x`));
      expect(sink.requests.length).toBe(RETRY.attempts);
      return outcome;
    },
  );

  faultCase(
    {
      name: 'notifiers-down-fence-fails',
      fault: 'the BMC ignores the off, and both SMTP and the chat webhook are down',
      expected: 'still FencingFailed with nothing evacuated; the notifier failures do not mask it',
      completions: 0,
    },
    async (c) => {
      scene = await startScene({
        notifiers: [email(await closedPort()), webhook(`http://127.0.0.1:${await closedPort()}/hook`)],
        recovery: { fence: { verifyTimeoutSeconds: 1, pollIntervalMs: 50 } },
      });
      const s = scene;
      c.witness(s.evidence);
      failHost(s, 'compute-1');
      s.sim.state.host('compute-1').bmcFault = 'ignore-off';
      const run = await s.recover('compute-1');
      expect(run.outcome.error).toBe('Fence.NotVerified');
      expectUntouched(s, 'compute-1');
      expect(s.memory.reports.map((r) => r.kind)).toEqual(['fencing-failed']);
      return { actual: `${describeRun(run)}; email and webhook failed; nothing evacuated`, completed: 0 };
    },
  );
});
