// The webhook's front door: method, size and who is calling, decided from the intake
// config, the webhook's own secret and the state store alone. Nothing else is built or
// read for a request it refuses (no Nova credentials, no notifier secrets), so a stranger
// gets 401 even while the rest cannot be built, and costs one secret read per reloadSeconds.
import type { SecretsManagerGet } from '../secrets.js';
import { Authenticator, type ReplayGuard } from './auth.js';
import type { IntakeConfig } from './config.js';
import type { IntakeRequest } from './request.js';
import { rawBody } from './request.js';
import { type IntakeResponse, refusalResponse } from './response.js';
import type { StateStore } from './state-store.js';

export interface IntakeCounters {
  requests: number;
  unauthorized: number;
  rejected: number;
  alerts: number;
  started: number;
  alreadyHandled: number;
  refused: number;
}

type Log = (message: string, detail: Record<string, unknown>) => void;

export interface FrontDoorDeps {
  config: IntakeConfig;
  /** Remembers each accepted signature's nonce until it expires (shared across containers on AWS). */
  store: StateStore;
  env: NodeJS.ProcessEnv;
  logger: { info: Log; warn: Log };
  now?: () => number;
  secretsManager?: SecretsManagerGet;
}

/** A request past the front door: its exact bytes, and the nonce it used up (if signed). */
export interface Admitted {
  bytes: Buffer;
  replay: ReplayGuard | null;
}

const UNAVAILABLE = (error: string): IntakeResponse => ({
  ...refusalResponse({ status: 503, error }),
  headers: { 'content-type': 'application/json', 'retry-after': '10' },
});

export class FrontDoor {
  readonly counters: IntakeCounters = {
    requests: 0,
    unauthorized: 0,
    rejected: 0,
    alerts: 0,
    started: 0,
    alreadyHandled: 0,
    refused: 0,
  };
  private readonly auth: Authenticator;
  private readonly now: () => number;
  private warnedUnconfigured = false;

  constructor(private readonly deps: FrontDoorDeps) {
    this.now = deps.now ?? Date.now;
    const warn: Log = (message, detail) => deps.logger.warn(message, detail);
    this.auth = new Authenticator(deps.config.auth, deps.env, warn, this.now, deps.secretsManager);
  }

  /** The refusal to send, or the request's bytes once the caller is known. */
  async admit(request: IntakeRequest, requestId: string | null = null): Promise<IntakeResponse | Admitted> {
    this.counters.requests += 1;
    if (request.method.toUpperCase() !== 'POST') {
      return this.rejected(
        refusalResponse({ status: 405, error: 'method: use POST' }, { allow: 'POST' }),
        requestId,
      );
    }
    const bytes = rawBody(request, this.deps.config.maxBodyBytes);
    if (!Buffer.isBuffer(bytes)) return this.rejected(refusalResponse(bytes), requestId);
    const verdict = await this.auth.verify({ headers: request.headers, rawBody: bytes });
    if (verdict.result === 'unavailable') {
      return UNAVAILABLE('authentication unavailable: the webhook secret cannot be read');
    }
    if (verdict.result === 'refused') return this.unauthorized();
    const replay = verdict.replay ?? null;
    if (replay) {
      let first: boolean;
      try {
        // Remembered a little past the tolerance, so a clock a second off cannot reopen it.
        first = await this.deps.store.claimOnce(replay.key, replay.untilMs - this.now() + 5_000);
      } catch (error) {
        this.deps.logger.warn('webhook nonce could not be recorded', { error: (error as Error).message });
        return UNAVAILABLE('authentication unavailable: the nonce store cannot be reached');
      }
      if (!first) return this.unauthorized(); // a replay: one 401 for every failure
    }
    return { bytes, replay };
  }

  /**
   * Forgets the nonce of a request answered 5xx: the sender retries the same signed
   * request, and that retry is not a replay (every repeat of an alert is safe to decide).
   */
  async release(admitted: Admitted): Promise<void> {
    if (admitted.replay) await this.deps.store.unclaim(admitted.replay.key).catch(() => undefined);
  }

  /** A request refused for what it is (4xx other than 401): counted and logged with its reason. */
  rejected(response: IntakeResponse, requestId: string | null): IntakeResponse {
    this.counters.rejected += 1;
    this.deps.logger.info('webhook request rejected', {
      requestId,
      status: response.status,
      error: response.body.error,
    });
    return response;
  }

  private async unauthorized(): Promise<IntakeResponse> {
    this.counters.unauthorized += 1;
    if (!this.warnedUnconfigured && !(await this.auth.configured())) {
      this.warnedUnconfigured = true;
      this.deps.logger.warn('webhook has no secret configured: every request is refused', {
        bearerEnv: this.deps.config.auth.bearer?.env ?? null,
      });
    }
    return refusalResponse({ status: 401, error: 'unauthorized' }, { 'www-authenticate': 'Bearer' });
  }
}
