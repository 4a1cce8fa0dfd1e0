// Checks a request's signature. Order matters: nothing is remembered about a request
// until its signature is valid, so unsigned traffic cannot fill the nonce cache, and
// nothing about hosts is revealed before authentication. The reason is for the audit
// line only: callers get one answer for every failure (relay-server.ts).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { canonicalString, computeSignature, HEADER } from './protocol.js';

export type AuthOutcome =
  | { ok: true; keyId: string }
  | {
      ok: false;
      keyId: string | null;
      reason:
        | 'missing-signature'
        | 'unknown-key'
        | 'bad-timestamp'
        | 'expired'
        | 'bad-signature'
        | 'replayed';
    };

/** Nonces seen within the validity window; anything older is refused by the timestamp check anyway. */
export class NonceCache {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 100_000,
  ) {}

  /** False when the nonce was already used. */
  remember(nonce: string, now: number): boolean {
    this.prune(now);
    if (this.seen.has(nonce)) return false;
    // Full: forget the oldest (insertion order); its timestamp is the closest to expiring.
    if (this.seen.size >= this.maxEntries) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    this.seen.set(nonce, now + this.ttlMs);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  private prune(now: number): void {
    for (const [nonce, expires] of this.seen) {
      if (expires > now) break;
      this.seen.delete(nonce);
    }
  }
}

const header = (headers: Record<string, string | string[] | undefined>, name: string) => {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
};

/** Stands in for an unknown key, so a request naming one costs the same HMAC as any other. */
const DECOY_KEY = randomBytes(32);

export function authenticate(
  request: {
    method: string;
    path: string;
    headers: Record<string, string | string[] | undefined>;
    body: Buffer;
  },
  keys: ReadonlyMap<string, { secret: Buffer }>,
  nonces: NonceCache,
  windowMs: number,
  now = Date.now(),
): AuthOutcome {
  const keyId = header(request.headers, HEADER.keyId);
  const timestamp = header(request.headers, HEADER.timestamp);
  const nonce = header(request.headers, HEADER.nonce);
  const signature = header(request.headers, HEADER.signature);
  if (!keyId || !timestamp || !nonce || !signature)
    return { ok: false, keyId: keyId ?? null, reason: 'missing-signature' };
  const key = keys.get(keyId)?.secret;
  const expected = Buffer.from(
    computeSignature(
      key ?? DECOY_KEY,
      canonicalString({ method: request.method, path: request.path, timestamp, nonce, body: request.body }),
    ),
    'hex',
  );
  const given = /^[0-9a-f]{64}$/i.test(signature) ? Buffer.from(signature, 'hex') : Buffer.alloc(0);
  // timingSafeEqual needs equal lengths; a malformed signature is compared against itself to keep the timing flat.
  const match =
    given.length === expected.length
      ? timingSafeEqual(given, expected)
      : !timingSafeEqual(expected, expected);
  if (!key) return { ok: false, keyId, reason: 'unknown-key' };
  if (!/^\d{1,15}$/.test(timestamp) || !/^[A-Za-z0-9_-]{16,128}$/.test(nonce)) {
    return { ok: false, keyId, reason: 'bad-timestamp' };
  }
  if (Math.abs(now - Number(timestamp)) > windowMs) return { ok: false, keyId, reason: 'expired' };
  if (!match) return { ok: false, keyId, reason: 'bad-signature' };
  if (!nonces.remember(`${keyId}:${nonce}`, now)) return { ok: false, keyId, reason: 'replayed' };
  return { ok: true, keyId };
}
