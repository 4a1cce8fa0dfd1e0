// Runs every notifier for one report, side by side, each with bounded retries and
// exponential backoff, inside one overall deadline. It never throws: whatever happens
// becomes a NotifierResult, because telling people must never fail or stall a recovery.
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Notifier, NotifierResult, RecoveryReport } from './ports.js';
import * as z from './zod.js';

/** A notifier section's `retry:`; unset fields come from deliver()'s options, then the defaults. */
export const retrySchema = z.strictObject({
  /** Tries in all, the first included. */
  attempts: z.optional(z.int().check(z.minimum(1), z.maximum(10))),
  initialDelayMs: z.optional(z.int().check(z.minimum(0))),
  maxDelayMs: z.optional(z.int().check(z.minimum(0))),
});

export interface RetryPolicy {
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, initialDelayMs: 1_000, maxDelayMs: 15_000 };

/** A notifier may carry its own retry policy (from its config section). */
export interface RetryingNotifier extends Notifier {
  readonly retry?: Partial<RetryPolicy> | undefined;
}

export interface DeliverOptions {
  /** Default policy for notifiers without their own. */
  retry?: Partial<RetryPolicy>;
  /** One try is abandoned (and its sending aborted) after this long. */
  attemptTimeoutMs?: number;
  /** Everything is over after this long, retries included: keep it under the Lambda timeout. */
  deadlineMs?: number;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Test seams. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

export const DEFAULT_ATTEMPT_TIMEOUT_MS = 40_000;
/** Below the Notify task's 120 s TimeoutSeconds in the state machine. */
export const DEFAULT_DEADLINE_MS = 90_000;

/** The n-th wait (n from 1): initial * 2^(n-1), capped, with jitter in [50%, 100%] so retries spread out. */
export function backoffDelay(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const raw = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (retry - 1));
  return Math.round(raw * (0.5 + random() * 0.5));
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 500 ? `${text.slice(0, 499)}…` : text;
}

const retryable = (error: unknown) => (error as { retryable?: unknown } | null)?.retryable !== false;
const retryAfter = (error: unknown) => {
  const ms = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof ms === 'number' && ms > 0 ? ms : 0;
};

const defined = (policy: Partial<RetryPolicy> | undefined) =>
  Object.fromEntries(
    Object.entries(policy ?? {}).filter(([, value]) => value !== undefined),
  ) as Partial<RetryPolicy>;

class AttemptTimeout extends Error {
  constructor(ms: number, why: string) {
    super(`gave up after ${ms} ms (${why})`);
  }
}

async function attempt(notifier: Notifier, report: RecoveryReport, ms: number, why: string): Promise<void> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new AttemptTimeout(ms, why);
      controller.abort(error);
      reject(error);
    }, ms);
  });
  try {
    // Promise.resolve().then(): a notifier that throws synchronously is caught too.
    await Promise.race([
      Promise.resolve().then(() => notifier.notify(report, { signal: controller.signal })),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function deliverOne(
  notifier: RetryingNotifier,
  report: RecoveryReport,
  options: DeliverOptions,
  start: number,
) {
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...defined(options.retry), ...defined(notifier.retry) };
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = start + (options.deadlineMs ?? DEFAULT_DEADLINE_MS);
  const attemptTimeout = options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS;
  const log = options.logger;
  let lastError = 'not attempted: the delivery deadline had already passed';
  let attempts = 0;
  while (attempts < policy.attempts) {
    const left = deadline - now();
    if (left <= 0) break;
    attempts += 1;
    const budget = Math.min(attemptTimeout, left);
    try {
      await attempt(
        notifier,
        report,
        budget,
        budget < attemptTimeout ? 'delivery deadline' : 'attempt timeout',
      );
      if (attempts > 1) log?.info('notifier succeeded after retrying', { notifier: notifier.name, attempts });
      return { notifier: notifier.name, ok: true, attempts, error: null } satisfies NotifierResult;
    } catch (error) {
      lastError = messageOf(error);
      const again = retryable(error) && attempts < policy.attempts;
      const delay = again
        ? Math.max(
            backoffDelay(policy, attempts, options.random),
            Math.min(retryAfter(error), policy.maxDelayMs),
          )
        : 0;
      if (!again || now() + delay >= deadline) {
        if (again) lastError += ' (no time left to retry before the delivery deadline)';
        break;
      }
      log?.warn('notifier failed, will retry', {
        notifier: notifier.name,
        attempt: attempts,
        error: lastError,
        retryInMs: delay,
      });
      await sleep(delay);
    }
  }
  log?.error('notifier failed', { notifier: notifier.name, attempts, error: lastError });
  return { notifier: notifier.name, ok: false, attempts, error: lastError } satisfies NotifierResult;
}

/**
 * Delivers one report through every notifier concurrently. Resolves with one result per
 * notifier, in the given order; never rejects.
 */
export async function deliverReport(
  notifiers: readonly Notifier[],
  report: RecoveryReport,
  options: DeliverOptions = {},
): Promise<NotifierResult[]> {
  const start = (options.now ?? Date.now)();
  return Promise.all(
    notifiers.map((notifier) =>
      deliverOne(notifier, report, options, start).catch(
        (error): NotifierResult => ({
          notifier: notifier?.name ?? 'unknown',
          ok: false,
          attempts: 0,
          error: messageOf(error),
        }),
      ),
    ),
  );
}
