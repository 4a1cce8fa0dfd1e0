// Webhook secrets come from a file (a mounted secret), an AWS Secrets Manager secret or
// an environment variable, named in config. The values are held here and compared; they
// are never logged, echoed or put in an error message.
import { readFileSync } from 'node:fs';

/** Shorter secrets are refused: a guessable token would make the webhook a remote fencing switch. */
export const MIN_SECRET_LENGTH = 16;

export interface SecretSpec {
  file?: string | undefined;
  /** Secrets Manager secret id or ARN: its string, or the `field` of a JSON secret. */
  secret?: string | undefined;
  env?: string | undefined;
}

/** Fetches a Secrets Manager secret's string; replaceable in tests. */
export type SecretsManagerGet = (secretId: string) => Promise<string | undefined>;

// Loaded only when a secret is configured, so local runs need no AWS SDK.
export const fromSecretsManager: SecretsManagerGet = async (secretId) => {
  const { getSecret } = await import('@aws-lambda-powertools/parameters/secrets');
  const value = await getSecret(secretId);
  return typeof value === 'string' ? value : value ? Buffer.from(value).toString('utf8') : undefined;
};

const RETRY_MS = 5000;

type Warn = (message: string, detail: Record<string, unknown>) => void;

export class SecretReader {
  private cached: { values: Buffer[]; until: number } | null = null;
  /** After a failed read, the store is asked again only after this time (no storm of retries). */
  private retryAt = 0;

  constructor(
    readonly spec: SecretSpec,
    /** JSON secrets are read from this field ("token", "secret"). */
    private readonly field: string,
    private readonly reloadMs: number,
    private readonly env: NodeJS.ProcessEnv,
    private readonly warn: Warn,
    private readonly secretsManager: SecretsManagerGet = fromSecretsManager,
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
      this.warn('webhook secret unreadable', { where: this.where(), error: errorName(error) });
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
        where: this.where(),
        minimum: MIN_SECRET_LENGTH,
      });
    }
    this.cached = { values: usable.map((value) => Buffer.from(value, 'utf8')), until: now + this.reloadMs };
    return this.cached.values;
  }

  private where(): string {
    if (this.spec.file) return `file ${this.spec.file}`;
    if (this.spec.secret) return `Secrets Manager secret ${this.spec.secret}`;
    return `variable ${this.spec.env ?? '(none)'}`;
  }

  private async read(): Promise<string> {
    if (this.spec.file) return readFileSync(this.spec.file, 'utf8');
    if (this.spec.secret) return this.fromJson((await this.secretsManager(this.spec.secret)) ?? '');
    return (this.spec.env && this.env[this.spec.env]) || '';
  }

  /** A JSON secret ({"token": "..."}) yields its field; anything else is the value itself. */
  private fromJson(value: string): string {
    if (!value.trimStart().startsWith('{')) return value;
    try {
      const picked = (JSON.parse(value) as Record<string, unknown>)[this.field];
      return typeof picked === 'string' ? picked : '';
    } catch {
      return value;
    }
  }
}

const errorName = (error: unknown) =>
  (error as NodeJS.ErrnoException).code ?? (error as Error).name ?? 'error';
