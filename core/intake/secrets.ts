// Webhook secrets come from a file (a mounted secret, a Secrets Manager export) or an
// environment variable, named in config. The values are held here and compared; they
// are never logged, echoed or put in an error message.
import { readFileSync } from 'node:fs';

/** Shorter secrets are refused: a guessable token would make the webhook a remote fencing switch. */
export const MIN_SECRET_LENGTH = 16;

export interface SecretSpec {
  file?: string | undefined;
  env?: string | undefined;
}

export class SecretReader {
  private cached: { values: Buffer[]; until: number } | null = null;

  constructor(
    private readonly spec: SecretSpec,
    private readonly reloadMs: number,
    private readonly env: NodeJS.ProcessEnv,
    private readonly warn: (message: string, detail: Record<string, unknown>) => void,
  ) {}

  /** Every current secret (several during a rotation); empty when none is configured. */
  values(now = Date.now()): Buffer[] {
    if (this.cached && this.cached.until > now) return this.cached.values;
    const values = this.read()
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
    return this.spec.file ? `file ${this.spec.file}` : `variable ${this.spec.env ?? '(none)'}`;
  }

  private read(): string {
    if (this.spec.file) {
      try {
        return readFileSync(this.spec.file, 'utf8');
      } catch (error) {
        this.warn('webhook secret file unreadable', {
          where: this.where(),
          error: (error as NodeJS.ErrnoException).code ?? 'error',
        });
        return '';
      }
    }
    return (this.spec.env && this.env[this.spec.env]) || '';
  }
}
