// deliverReport(): retries with backoff, bounded by attempt timeouts and a deadline,
// one result per notifier, never a throw. SMTP down and SMTP hanging included.
import { afterEach, describe, expect, it } from 'vitest';
import { backoffDelay, deliverReport } from '../../core/deliver-report.js';
import type { Notifier } from '../../core/ports.js';
import { createEmailNotifier, emailNotifierSchema } from '../../drivers/notifier/email.js';
import { NotifierError } from '../../drivers/notifier/notifier-error.js';
import { silentLogger } from '../support/capture-logger.js';
import { MemoryNotifier } from '../support/memory-notifier.js';
import { closedPort, sampleReport, silentServer } from '../support/notify-fixtures.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0)) await fn();
});

const email = (port: number, smtp: Record<string, unknown> = {}) =>
  createEmailNotifier(
    emailNotifierSchema.parse({
      driver: 'email',
      from: 'freezer-dr@cloud.example',
      admins: ['ops@cloud.example'],
      smtp: { host: '127.0.0.1', port, security: 'none', ...smtp },
      tenants: { keystone: false },
    }),
    { logger: silentLogger as never, env: {}, simulated: null },
  );

const failing = (name: string, error: () => unknown, calls: { n: number }): Notifier => ({
  name,
  async notify() {
    calls.n += 1;
    throw error();
  },
});

describe('deliverReport', () => {
  it('SMTP down: the email result is ok:false with the error, other notifiers still deliver, in bounded time', async () => {
    const port = await closedPort();
    const memory = new MemoryNotifier();
    const waits: number[] = [];
    const results = await deliverReport([email(port), memory], sampleReport(), {
      retry: { attempts: 3, initialDelayMs: 50, maxDelayMs: 200 },
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    // Bounded: two backoffs between three tries, each within the policy's cap.
    expect(waits).toHaveLength(2);
    for (const ms of waits) expect(ms).toBeLessThanOrEqual(200);
    expect(results[0]).toMatchObject({ notifier: 'email', ok: false, attempts: 3 });
    // Admin + three projects (all to the admins: no Keystone here); the first refusal stops the rest.
    expect(results[0]?.error).toMatch(
      /^4 of 4 email\(s\) not sent: admin: ESOCKET: connect ECONNREFUSED 127\.0\.0\.1:\d+$/,
    );
    expect(results[1]).toEqual({ notifier: 'memory', ok: true, attempts: 1, error: null });
    expect(memory.reports).toHaveLength(1);
  });

  it('SMTP server that never greets: bounded by the connection timeout', async () => {
    const silent = await silentServer();
    cleanup.push(silent.close);
    const [result] = await deliverReport([email(silent.port, { connectionTimeoutMs: 300 })], sampleReport(), {
      retry: { attempts: 2, initialDelayMs: 10 },
    });
    expect(result).toMatchObject({ ok: false, attempts: 2 });
    expect(result?.error).toMatch(/ETIMEDOUT|Greeting never received/);
  });

  it('abandons a hanging attempt, aborts it through the signal, and retries', async () => {
    const signals: AbortSignal[] = [];
    const hanging: Notifier = {
      name: 'hanging',
      notify: (_report, options) => {
        if (options?.signal) signals.push(options.signal);
        return new Promise(() => undefined);
      },
    };
    const [result] = await deliverReport([hanging], sampleReport(), {
      attemptTimeoutMs: 100,
      retry: { attempts: 2, initialDelayMs: 10 },
    });
    expect(result).toEqual({
      notifier: 'hanging',
      ok: false,
      attempts: 2,
      error: 'gave up after 100 ms (attempt timeout)',
    });
    expect(signals).toHaveLength(2);
    expect(signals.every((s) => s.aborted)).toBe(true);
  });

  it('stops retrying at the delivery deadline', async () => {
    const calls = { n: 0 };
    let clock = 0;
    const [result] = await deliverReport(
      [failing('flaky', () => new Error('503 from upstream'), calls)],
      sampleReport(),
      {
        deadlineMs: 300,
        retry: { attempts: 10, initialDelayMs: 120, maxDelayMs: 120 },
        random: () => 1,
        // A clock that moves only when the backoff waits: tries at 0, 120 and 240 ms.
        now: () => clock,
        sleep: async (ms) => {
          clock += ms;
        },
      },
    );
    expect(result?.ok).toBe(false);
    expect(calls.n).toBe(3);
    expect(result?.error).toBe('503 from upstream (no time left to retry before the delivery deadline)');
  });

  it('does not retry errors marked permanent', async () => {
    const calls = { n: 0 };
    const [result] = await deliverReport(
      [failing('bad-config', () => new NotifierError('no such template', false), calls)],
      sampleReport(),
    );
    expect(result).toEqual({ notifier: 'bad-config', ok: false, attempts: 1, error: 'no such template' });
    expect(calls.n).toBe(1);
  });

  it('never throws, whatever a notifier does', async () => {
    const sync: Notifier = {
      name: 'sync-throw',
      notify: () => {
        throw new Error('thrown synchronously');
      },
    };
    const weird = failing('throws-a-string', () => 'just a string', { n: 0 });
    const results = await deliverReport([sync, weird], sampleReport(), {
      retry: { attempts: 2, initialDelayMs: 1 },
    });
    expect(results).toEqual([
      { notifier: 'sync-throw', ok: false, attempts: 2, error: 'thrown synchronously' },
      { notifier: 'throws-a-string', ok: false, attempts: 2, error: 'just a string' },
    ]);
  });

  it('uses a notifier’s own retry policy and honours Retry-After', async () => {
    const calls = { n: 0 };
    const waits: number[] = [];
    const limited = Object.assign(
      failing('limited', () => Object.assign(new Error('HTTP 429'), { retryAfterMs: 700 }), calls),
      { retry: { attempts: 2 } },
    );
    await deliverReport([limited], sampleReport(), {
      retry: { attempts: 5, initialDelayMs: 10, maxDelayMs: 1_000 },
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    expect(calls.n).toBe(2);
    expect(waits).toEqual([700]);
  });

  it('backs off exponentially, capped, with jitter', () => {
    const policy = { attempts: 6, initialDelayMs: 1_000, maxDelayMs: 5_000 };
    expect([1, 2, 3, 4].map((n) => backoffDelay(policy, n, () => 1))).toEqual([1_000, 2_000, 4_000, 5_000]);
    expect(backoffDelay(policy, 2, () => 0)).toBe(1_000);
  });
});
