// The StateStore shared by every Lambda container: one DynamoDB table (pk, TTL on
// expiresAt), every change a conditional write, so two containers can never both hold one
// claim or push the start window past its limit.
//   claimOnce   read; if absent or expired, PutItem on the same condition; a claim held
//               by the same owner is its own again (a retried step), never a second one.
//   takeSlot    one item per bucket: its live slots [{t, at}] and a version; read,
//               drop slots older than the window, append when under the limit, write back
//               only if the version is still the one read (else read again).
//   takeOver    the same write, also when the claim's owner is the one being replaced.
//   unclaim     DeleteItem.  releaseSlot  the same versioned write, without the token.
//   getValue / putValue   a plain item with `until` (last write wins): the sealed token.
// Expiry is decided from `until` (ms) on every read: DynamoDB's TTL deletes only
// eventually (hours), so expiresAt cleans up, never decides.
// The SDK is imported on first use: it stays out of cold start and out of `npm start`.
import { randomUUID } from 'node:crypto';
import type { AttributeValue, DynamoDBClient, DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { StateStore } from '../../core/intake/state-store.js';

/** The table's hash key (a string) and TTL attribute (epoch seconds): resources.yml creates them so. */
export const STATE_TABLE_KEY = 'pk';
export const STATE_TABLE_TTL = 'expiresAt';

type Sdk = typeof import('@aws-sdk/client-dynamodb');
type Item = Record<string, AttributeValue>;

export interface DynamoStateStoreOptions {
  table: string;
  /** Client settings: region, endpoint (a DynamoDB-compatible server), credentials. */
  client?: DynamoDBClientConfig;
  /** Read-modify-write rounds of one slot change before giving up (the request then fails, 503). */
  maxAttempts?: number;
  now?: () => number;
}

const N = (value: number): AttributeValue => ({ N: String(value) });
const S = (value: string): AttributeValue => ({ S: value });
const seconds = (ms: number) => Math.ceil(ms / 1000);
const conditionFailed = (error: unknown) => (error as Error)?.name === 'ConditionalCheckFailedException';

interface Slot {
  token: string;
  at: number;
}

export class DynamoStateStore implements StateStore {
  private connection: Promise<{ sdk: Sdk; client: DynamoDBClient }> | null = null;
  private readonly now: () => number;
  private readonly maxAttempts: number;

  constructor(private readonly options: DynamoStateStoreOptions) {
    this.now = options.now ?? Date.now;
    this.maxAttempts = options.maxAttempts ?? 30;
  }

  async claimOnce(key: string, ttlMs: number, owner?: string): Promise<boolean> {
    const pk = `claim#${key}`;
    const now = this.now();
    // Read first: during a storm most calls find the claim held, and a read neither
    // contends for the item nor costs a write. The conditional write below decides.
    const held = await this.read(pk);
    if (held && Number(held.until?.N) > now) return owner !== undefined && held.owner?.S === owner;
    if (await this.putClaim(pk, now, ttlMs, owner)) return true;
    // Someone claimed it between the read and the write: it is theirs, unless theirs is ours.
    if (owner === undefined) return false;
    const claimed = await this.read(pk);
    return claimed?.owner?.S === owner && Number(claimed.until?.N) > now;
  }

  async claimHolder(key: string): Promise<string | null> {
    const held = await this.read(`claim#${key}`);
    return held && Number(held.until?.N) > this.now() ? (held.owner?.S ?? null) : null;
  }

  async takeOver(key: string, ttlMs: number, owner: string, from: string): Promise<boolean> {
    return this.putClaim(`claim#${key}`, this.now(), ttlMs, owner, from);
  }

  /**
   * Writes the claim when the item is absent or expired (or, given `from`, still held by
   * `from` or by `owner`); false when the condition fails, i.e. someone else holds it.
   */
  private async putClaim(
    pk: string,
    now: number,
    ttlMs: number,
    owner?: string,
    from?: string,
  ): Promise<boolean> {
    const { sdk, client } = await this.connect();
    const until = now + ttlMs;
    const replacing = from !== undefined && owner !== undefined;
    try {
      await client.send(
        new sdk.PutItemCommand({
          TableName: this.options.table,
          Item: {
            [STATE_TABLE_KEY]: S(pk),
            until: N(until),
            [STATE_TABLE_TTL]: N(seconds(until)),
            ...(owner !== undefined ? { owner: S(owner) } : {}),
          },
          ConditionExpression: `attribute_not_exists(#pk) OR #until <= :now${replacing ? ' OR #owner IN (:from, :owner)' : ''}`,
          ExpressionAttributeNames: {
            '#pk': STATE_TABLE_KEY,
            '#until': 'until',
            ...(replacing ? { '#owner': 'owner' } : {}),
          },
          ExpressionAttributeValues: {
            ':now': N(now),
            ...(replacing ? { ':from': S(from), ':owner': S(owner) } : {}),
          },
        }),
      );
      return true;
    } catch (error) {
      if (conditionFailed(error)) return false;
      throw error;
    }
  }

  async unclaim(key: string): Promise<void> {
    const { sdk, client } = await this.connect();
    await client.send(
      new sdk.DeleteItemCommand({
        TableName: this.options.table,
        Key: { [STATE_TABLE_KEY]: S(`claim#${key}`) },
      }),
    );
  }

  async takeSlot(bucket: string, limit: number, windowMs: number, floor = 0): Promise<string | null> {
    const token = randomUUID();
    const taken = await this.changeSlots(bucket, windowMs, (live, now) =>
      Math.max(floor, live.length) >= limit ? null : [...live, { token, at: now }],
    );
    return taken ? token : null;
  }

  async releaseSlot(bucket: string, token: string): Promise<void> {
    await this.changeSlots(bucket, Number.POSITIVE_INFINITY, (live) =>
      live.some((slot) => slot.token === token) ? live.filter((slot) => slot.token !== token) : null,
    );
  }

  /**
   * Optimistic concurrency on the bucket's item: `change` gets the live slots and returns
   * the new list, or null to write nothing. A write another container got in first is
   * ConditionalCheckFailed: read again and decide again on what is there now. True when
   * the last decision was written, false when it was to write nothing.
   */
  private async changeSlots(
    bucket: string,
    windowMs: number,
    change: (live: Slot[], now: number) => Slot[] | null,
  ): Promise<boolean> {
    const { sdk, client } = await this.connect();
    const pk = `slots#${bucket}`;
    for (let attempt = 1; ; attempt += 1) {
      const item = await this.read(pk);
      const now = this.now();
      const version = Number(item?.version?.N ?? 0);
      const live = slotsOf(item).filter((slot) => slot.at > now - windowMs);
      const next = change(live, now);
      if (next === null) return false;
      const newest = next.reduce((max, slot) => Math.max(max, slot.at), now);
      try {
        await client.send(
          new sdk.PutItemCommand({
            TableName: this.options.table,
            Item: {
              [STATE_TABLE_KEY]: S(pk),
              version: N(version + 1),
              slots: { L: next.map((slot) => ({ M: { t: S(slot.token), at: N(slot.at) } })) },
              // Kept for a day past the newest slot: no window is that long in practice.
              [STATE_TABLE_TTL]: N(seconds(newest) + 86_400),
            },
            ...(version === 0
              ? {
                  ConditionExpression: 'attribute_not_exists(#pk)',
                  ExpressionAttributeNames: { '#pk': STATE_TABLE_KEY },
                }
              : {
                  ConditionExpression: '#version = :version',
                  ExpressionAttributeNames: { '#version': 'version' },
                  ExpressionAttributeValues: { ':version': N(version) },
                }),
          }),
        );
        return true;
      } catch (error) {
        if (!conditionFailed(error)) throw error;
        if (attempt >= this.maxAttempts) {
          throw new Error(`start window ${bucket}: still contended after ${attempt} attempts`);
        }
        // Full jitter: concurrent writers spread out instead of colliding again.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(200, 5 * 2 ** attempt)));
      }
    }
  }

  async getValue(key: string): Promise<string | null> {
    const item = await this.read(`value#${key}`);
    return item && Number(item.until?.N) > this.now() ? (item.value?.S ?? null) : null;
  }

  async putValue(key: string, value: string, ttlMs: number): Promise<void> {
    const { sdk, client } = await this.connect();
    const until = this.now() + ttlMs;
    await client.send(
      new sdk.PutItemCommand({
        TableName: this.options.table,
        Item: {
          [STATE_TABLE_KEY]: S(`value#${key}`),
          value: S(value),
          until: N(until),
          [STATE_TABLE_TTL]: N(seconds(until)),
        },
      }),
    );
  }

  private async read(pk: string): Promise<Item | undefined> {
    const { sdk, client } = await this.connect();
    const result = await client.send(
      new sdk.GetItemCommand({
        TableName: this.options.table,
        Key: { [STATE_TABLE_KEY]: S(pk) },
        ConsistentRead: true,
      }),
    );
    return result.Item;
  }

  private connect(): Promise<{ sdk: Sdk; client: DynamoDBClient }> {
    this.connection ??= import('@aws-sdk/client-dynamodb').then((sdk) => ({
      sdk,
      client: new sdk.DynamoDBClient(this.options.client ?? {}),
    }));
    return this.connection;
  }

  /** Closes the client's connections (tests, short-lived processes). */
  async close(): Promise<void> {
    if (this.connection) (await this.connection).client.destroy();
  }
}

function slotsOf(item: Item | undefined): Slot[] {
  return (item?.slots?.L ?? []).map((entry) => ({
    token: entry.M?.t?.S ?? '',
    at: Number(entry.M?.at?.N ?? 0),
  }));
}
