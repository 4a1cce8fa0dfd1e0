// Webhook secrets, read through core/secrets.ts ({file}, {env} or {secret}) and held here:
// several lines allow rotation without downtime, the last good value carries through a
// store outage, short values are refused. Never logged, echoed or put in an error message.
import {
  describeSecretRef,
  readSecret,
  type SecretRef,
  type SecretsManagerGet,
  SecretUnavailable,
} from '../secrets.js';

/** Shorter secrets are refused: a guessable token would make the webhook a remote fencing switch. */
export const MIN_SECRET_LENGTH = 16;

const RETRY_MS = 5000;

type Warn = (message: string, detail: Record<string, unknown>) => void;

export class SecretReader {
  private cached: { values: Buffer[]; until: number } | null = null;
  /** After a failed read, the store is asked again only after this time (no storm of retries). */
  private retryAt = 0;

  constructor(
    readonly spec: SecretRef,
    /** JSON secrets are read from this field ("token", "secret"). */
    private readonly field: string,
    private readonly reloadMs: number,
    private readonly env: NodeJS.ProcessEnv,
    private readonly warn: Warn,
    private readonly secretsManager?: SecretsManagerGet,
  ) {}

  /**
   * Every current secret (several during a rotation); empty when none is configured;
   * null when the secret store cannot be read and nothing was read before (the caller
   * answers 503: the sender's credentials are not the problem).
   */
  async values(now = Date.now()): Promise<Buffer[] | null> {
    if (this.cached && this.cached.until > now) return this.cached.values;
    if (now < this.retryAt) return this.cached?.values ?? null;
    let text: string;
    try {
      text = await this.read();
    } catch (error) {
      this.warn('webhook secret unreadable', {
        where: describeSecretRef(this.spec),
        error: errorName(error),
      });
      this.retryAt = now + RETRY_MS;
      return this.cached?.values ?? null; // the last good secret carries through an outage
    }
    const values = text
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line.length > 0);
    const usable = values.filter((value) => value.length >= MIN_SECRET_LENGTH);
    if (usable.length < values.length) {
      this.warn('webhook secret ignored: shorter than the minimum', {
        where: describeSecretRef(this.spec),
        minimum: MIN_SECRET_LENGTH,
      });
    }
    this.cached = { values: usable.map((value) => Buffer.from(value, 'utf8')), until: now + this.reloadMs };
    return this.cached.values;
  }

  private async read(): Promise<string> {
    // An unset variable means no secret (every request 401), not an outage (503).
    if (this.spec.env && !this.env[this.spec.env]) return '';
    return readSecret(this.spec, {
      what: 'webhook secret',
      field: this.field,
      maxAgeSeconds: this.reloadMs / 1000,
      env: this.env,
      secretsManager: this.secretsManager,
    });
  }
}

// A SecretUnavailable message says where and why, never what.
const errorName = (error: unknown) =>
  error instanceof SecretUnavailable ? error.message : ((error as Error).name ?? 'error');
