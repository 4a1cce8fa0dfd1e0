// Who may start a recovery: a caller presenting the bearer token, or one signing the
// body with the HMAC secret. Both comparisons are constant-time, and a failure says
// nothing about why (the caller learns only 401; the intake only counts it).
// A signature is good once: the front door remembers its nonce (or, from a sender that
// sends none, the signature itself) until the timestamp leaves the tolerance.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { SecretsManagerGet } from '../secrets.js';
import type { IntakeConfig } from './config.js';
import { SecretReader } from './secrets.js';

export interface AuthRequest {
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
  rawBody: Buffer;
}

export type AuthMethod = 'bearer' | 'hmac';
/** A method that authenticated the request; refused; or the secret could not be read at all. */
export type AuthResult = AuthMethod | 'refused' | 'unavailable';

/** What makes a signed request single-use: its key, and until when a replay would still verify. */
export interface ReplayGuard {
  key: string;
  untilMs: number;
}

export interface Verdict {
  result: AuthResult;
  /** Set for an accepted signature. */
  replay?: ReplayGuard;
}

/** A nonce is 16-128 URL-safe characters: no ".", so "<ts>.<nonce>.<body>" splits one way only. */
const NONCE = /^[A-Za-z0-9_-]{16,128}$/;

const digest = (value: Buffer) => createHash('sha256').update(value).digest();

/** Compares against every secret without stopping early; hashing first hides the length. */
function matchesAny(candidate: Buffer, secrets: Buffer[]): boolean {
  const probe = digest(candidate);
  let found = false;
  for (const secret of secrets) found = timingSafeEqual(probe, digest(secret)) || found;
  return found;
}

export class Authenticator {
  private readonly bearer: SecretReader | null;
  private readonly hmac: SecretReader | null;

  constructor(
    private readonly config: IntakeConfig['auth'],
    env: NodeJS.ProcessEnv,
    warn: (message: string, detail: Record<string, unknown>) => void,
    private readonly now: () => number = Date.now,
    secretsManager?: SecretsManagerGet,
  ) {
    const reloadMs = config.reloadSeconds * 1000;
    const reader = (spec: SecretReader['spec'], field: string) =>
      new SecretReader(spec, field, reloadMs, env, warn, secretsManager);
    this.bearer = config.bearer ? reader(config.bearer, 'token') : null;
    this.hmac = config.hmac ? reader(config.hmac, 'secret') : null;
  }

  /** Whether any secret is configured and readable (without one, every request is refused). */
  async configured(): Promise<boolean> {
    const [bearer, hmac] = await Promise.all([
      this.bearer?.values(this.now()),
      this.hmac?.values(this.now()),
    ]);
    return (bearer?.length ?? 0) + (hmac?.length ?? 0) > 0;
  }

  async verify(request: AuthRequest): Promise<Verdict> {
    let unavailable = false;
    if (this.bearer && request.headers.authorization !== undefined) {
      const secrets = await this.bearer.values(this.now());
      const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(request.headers.authorization);
      if (secrets === null) unavailable = true;
      else if (match?.[1] && matchesAny(Buffer.from(match[1], 'utf8'), secrets)) return { result: 'bearer' };
    }
    const hmac = this.config.hmac;
    if (this.hmac && hmac) {
      const signature = request.headers[hmac.signatureHeader.toLowerCase()];
      const timestamp = request.headers[hmac.timestampHeader.toLowerCase()];
      const nonce = request.headers[hmac.nonceHeader.toLowerCase()];
      if (signature && timestamp && (nonce !== undefined || !hmac.requireNonce)) {
        const secrets = await this.hmac.values(this.now());
        if (secrets === null) unavailable = true;
        else {
          const replay = this.verifySignature(signature, timestamp, nonce, request.rawBody, hmac, secrets);
          if (replay) return { result: 'hmac', replay };
        }
      }
    }
    return { result: unavailable ? 'unavailable' : 'refused' };
  }

  private verifySignature(
    signature: string,
    timestamp: string,
    nonce: string | undefined,
    body: Buffer,
    options: NonNullable<IntakeConfig['auth']['hmac']>,
    secrets: Buffer[],
  ): ReplayGuard | null {
    if (!/^\d{1,12}$/.test(timestamp)) return null;
    if (Math.abs(this.now() / 1000 - Number(timestamp)) > options.toleranceSeconds) return null;
    if (nonce !== undefined && !NONCE.test(nonce)) return null;
    const hex = /^(?:sha256=)?([0-9a-fA-F]{64})$/.exec(signature.trim())?.[1];
    if (!hex) return null;
    const given = Buffer.from(hex, 'hex');
    let found = false;
    for (const secret of secrets) {
      found = timingSafeEqual(given, signature256(secret, timestamp, nonce, body)) || found;
    }
    if (!found) return null;
    return {
      // Without a nonce, the signature names the request: the same one sent again is a replay.
      key: `webhook-nonce:${nonce ?? `sig-${hex.toLowerCase()}`}`,
      untilMs: (Number(timestamp) + options.toleranceSeconds) * 1000,
    };
  }
}

/** HMAC-SHA256 over "<timestamp>.<nonce>.<body>", or "<timestamp>.<body>" for senders without a nonce. */
function signature256(
  secret: Buffer | string,
  timestamp: string,
  nonce: string | undefined,
  body: Buffer | string,
) {
  const mac = createHmac('sha256', secret).update(`${timestamp}.`);
  if (nonce !== undefined) mac.update(`${nonce}.`);
  return mac.update(body).digest();
}

/** What a sender computes: "sha256=" + hex HMAC-SHA256 of "<unix seconds>.<nonce>.<raw body>" (for tests and docs). */
export function signBody(
  secret: string,
  timestamp: number | string,
  body: string | Buffer,
  nonce?: string,
): string {
  return `sha256=${signature256(secret, String(timestamp), nonce, body).toString('hex')}`;
}
