// Small shared state the intake needs beyond Step Functions itself: "has this refusal
// been notified already", "how many recoveries started in the last window" and "was this
// webhook nonce used already". Exactly-once starts do NOT depend on it (the execution
// name does that).
//
// MemoryStateStore lives in one process: right for `npm start` and tests. On AWS every
// Lambda container must see the same state, so config `state: {driver: dynamodb}` selects
// the DynamoDB driver (conditional writes on one table), which implements this port;
// test/contract/state-store.contract.test.ts holds both stores to one contract.

export interface StateStore {
  /**
   * Records `key` for ttlMs unless it is already recorded; true when this call recorded it,
   * or when `owner` recorded it (a retried step gets its own claim back, never a second one).
   */
  claimOnce(key: string, ttlMs: number, owner?: string): Promise<boolean>;
  /** The owner of `key`'s live claim, or null (no claim, an expired one, or one without owner). */
  claimHolder(key: string): Promise<string | null>;
  /**
   * Claims `key` for `owner` when it is free or still held by `from` (whose work has ended),
   * atomically: of two callers taking over the same claim, one wins.
   */
  takeOver(key: string, ttlMs: number, owner: string, from: string): Promise<boolean>;
  /** Drops a claim early (the notification it guarded could not be delivered). */
  unclaim(key: string): Promise<void>;
  /**
   * Takes one of `limit` slots in a sliding window of windowMs. `floor` is a count of
   * slots known to be in use that this store may not have seen (e.g. executions started
   * by other containers); the slot is refused when max(floor, taken) >= limit.
   * Returns a token for releaseSlot, or null when the window is full.
   */
  takeSlot(bucket: string, limit: number, windowMs: number, floor?: number): Promise<string | null>;
  /** Gives a slot back (the start turned out to be a duplicate, or failed). */
  releaseSlot(bucket: string, token: string): Promise<void>;
  /** A value put under `key` that has not expired, or null (last write wins). */
  getValue(key: string): Promise<string | null>;
  /** Keeps `value` under `key` for ttlMs (the Keystone token every container shares, sealed). */
  putValue(key: string, value: string, ttlMs: number): Promise<void>;
}

export class MemoryStateStore implements StateStore {
  private readonly claims = new Map<string, { until: number; owner: string | null }>();
  private readonly slots = new Map<string, { token: string; at: number }[]>();
  private readonly values = new Map<string, { value: string; until: number }>();
  private nextToken = 1;

  constructor(private readonly now: () => number = Date.now) {}

  async claimOnce(key: string, ttlMs: number, owner?: string): Promise<boolean> {
    const now = this.now();
    const held = this.claims.get(key);
    if (held && held.until > now) return owner !== undefined && held.owner === owner;
    this.claims.set(key, { until: now + ttlMs, owner: owner ?? null });
    // Bounded: expired claims are dropped whenever a new one is recorded.
    if (this.claims.size > 1000) for (const [k, c] of this.claims) if (c.until <= now) this.claims.delete(k);
    return true;
  }

  async claimHolder(key: string): Promise<string | null> {
    const held = this.claims.get(key);
    return held && held.until > this.now() ? held.owner : null;
  }

  async takeOver(key: string, ttlMs: number, owner: string, from: string): Promise<boolean> {
    const now = this.now();
    const held = this.claims.get(key);
    if (held && held.until > now && held.owner !== from && held.owner !== owner) return false;
    this.claims.set(key, { until: now + ttlMs, owner });
    return true;
  }

  async unclaim(key: string): Promise<void> {
    this.claims.delete(key);
  }

  async takeSlot(bucket: string, limit: number, windowMs: number, floor = 0): Promise<string | null> {
    const now = this.now();
    const live = (this.slots.get(bucket) ?? []).filter((slot) => slot.at > now - windowMs);
    this.slots.set(bucket, live);
    if (Math.max(floor, live.length) >= limit) return null;
    const token = String(this.nextToken++);
    live.push({ token, at: now });
    return token;
  }

  async releaseSlot(bucket: string, token: string): Promise<void> {
    const live = this.slots.get(bucket);
    if (live)
      this.slots.set(
        bucket,
        live.filter((slot) => slot.token !== token),
      );
  }

  async getValue(key: string): Promise<string | null> {
    const held = this.values.get(key);
    return held && held.until > this.now() ? held.value : null;
  }

  async putValue(key: string, value: string, ttlMs: number): Promise<void> {
    this.values.set(key, { value, until: this.now() + ttlMs });
  }
}
