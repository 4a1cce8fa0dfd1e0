// The StateStore contract: the same cases against the in-memory store (`npm start`) and
// the DynamoDB store on a real DynamoDB-compatible server (dynalite on 127.0.0.1), each
// "handle" of the DynamoDB store its own client, as each Lambda container has its own.
// Time is a clock the test moves; nothing here waits for it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import { MemoryStateStore, type StateStore } from '../../core/intake/state-store.js';
import { validateDriverSections } from '../../drivers/registry.js';
import { createStateStore, stateDrivers } from '../../drivers/state/registry.js';
import { captureLogger } from '../support/capture-logger.js';
import { type Dynalite, startDynalite } from '../support/dynalite.js';

interface Fixture {
  /** Another handle on the same state (the same store in memory; a new client on DynamoDB). */
  handle(): StateStore;
  clock: { now: number };
}

let dynamo: Dynalite;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => dynamo?.close());

let keys = 0;
/** Each test its own keys and buckets: the table is shared by the whole file. */
const fresh = (what: string) => {
  keys += 1;
  return `${what}-${keys}`;
};

const fixtures: Record<string, () => Fixture> = {
  memory: () => {
    const clock = { now: Date.parse('2026-12-02T08:00:00Z') };
    const store = new MemoryStateStore(() => clock.now);
    return { handle: () => store, clock };
  },
  dynamodb: () => {
    const clock = { now: Date.parse('2026-12-02T08:00:00Z') };
    return { handle: () => dynamo.store({ now: () => clock.now }), clock };
  },
};

describe.each(Object.keys(fixtures))('StateStore contract: %s', (name) => {
  const make = fixtures[name] as () => Fixture;

  it('putValue keeps a value for its TTL, seen by every handle; the last write wins', async () => {
    const { handle, clock } = make();
    const [a, b] = [handle(), handle()];
    const key = fresh('value');
    expect(await a.getValue(key)).toBeNull();
    await a.putValue(key, 'one', 60_000);
    expect(await b.getValue(key)).toBe('one');
    await b.putValue(key, 'two', 60_000);
    expect(await a.getValue(key)).toBe('two');
    clock.now += 60_001;
    expect(await a.getValue(key)).toBeNull();
  });

  it('claimOnce records a key once; its owner gets it again, nobody else does', async () => {
    const { handle } = make();
    const [a, b] = [handle(), handle()];
    const key = fresh('claim');
    expect(await a.claimOnce(key, 60_000)).toBe(true);
    expect(await a.claimOnce(key, 60_000)).toBe(false);
    expect(await b.claimOnce(key, 60_000)).toBe(false);
    const owned = fresh('owned');
    expect(await a.claimOnce(owned, 60_000, 'execution-1')).toBe(true);
    expect(await b.claimOnce(owned, 60_000, 'execution-1')).toBe(true); // a retried step
    expect(await b.claimOnce(owned, 60_000, 'execution-2')).toBe(false);
    expect(await b.claimOnce(owned, 60_000)).toBe(false);
  });

  it('a claim expires after its TTL, and anyone may take it then', async () => {
    const { handle, clock } = make();
    const key = fresh('ttl');
    expect(await handle().claimOnce(key, 1000, 'execution-1')).toBe(true);
    clock.now += 999;
    expect(await handle().claimOnce(key, 1000, 'execution-2')).toBe(false);
    clock.now += 1;
    expect(await handle().claimOnce(key, 1000, 'execution-2')).toBe(true);
    expect(await handle().claimOnce(key, 1000, 'execution-1')).toBe(false);
  });

  it("claimHolder names a live claim's owner; takeOver replaces only the named owner, and one of two racers wins", async () => {
    const { handle, clock } = make();
    const key = fresh('holder');
    expect(await handle().claimHolder(key)).toBeNull();
    expect(await handle().claimOnce(key, 1000, 'execution-1')).toBe(true);
    expect(await handle().claimHolder(key)).toBe('execution-1');
    expect(await handle().takeOver(key, 1000, 'execution-3', 'execution-2')).toBe(false);
    expect(await handle().claimHolder(key)).toBe('execution-1');
    const racers = await Promise.all(
      ['execution-4', 'execution-5'].map((owner) => handle().takeOver(key, 1000, owner, 'execution-1')),
    );
    expect(racers.filter(Boolean)).toHaveLength(1);
    const winner = await handle().claimHolder(key);
    expect(['execution-4', 'execution-5']).toContain(winner);
    expect(await handle().claimOnce(key, 1000, 'execution-1')).toBe(false);
    clock.now += 1000;
    expect(await handle().claimHolder(key)).toBeNull();
    expect(await handle().takeOver(key, 1000, 'execution-6', 'nobody')).toBe(true); // an expired claim is free
  });

  it('unclaim lets the next caller claim at once (and is harmless for an unknown key)', async () => {
    const { handle } = make();
    const key = fresh('unclaim');
    expect(await handle().claimOnce(key, 60_000)).toBe(true);
    await handle().unclaim(key);
    expect(await handle().claimOnce(key, 60_000)).toBe(true);
    await expect(handle().unclaim(fresh('never'))).resolves.toBeUndefined();
  });

  it('concurrent claims of one key from many handles: exactly one wins', async () => {
    const { handle } = make();
    const key = fresh('race');
    const results = await Promise.all(Array.from({ length: 24 }, () => handle().claimOnce(key, 60_000)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('takeSlot hands out at most `limit` distinct slots; floor counts slots it has not seen', async () => {
    const { handle } = make();
    const bucket = fresh('slots');
    const tokens = [];
    for (let i = 0; i < 3; i += 1) tokens.push(await handle().takeSlot(bucket, 3, 60_000));
    expect(tokens.every((t) => typeof t === 'string')).toBe(true);
    expect(new Set(tokens).size).toBe(3);
    expect(await handle().takeSlot(bucket, 3, 60_000)).toBeNull();
    expect(await handle().takeSlot(fresh('slots'), 3, 60_000, 3)).toBeNull();
    const floored = fresh('slots');
    let granted = 0;
    while ((await handle().takeSlot(floored, 3, 60_000, 2)) !== null) granted += 1;
    expect(granted).toBe(3);
  });

  it('the window slides: a slot is free again windowMs after it was taken', async () => {
    const { handle, clock } = make();
    const bucket = fresh('window');
    expect(await handle().takeSlot(bucket, 2, 1000)).not.toBeNull();
    clock.now += 500;
    expect(await handle().takeSlot(bucket, 2, 1000)).not.toBeNull();
    expect(await handle().takeSlot(bucket, 2, 1000)).toBeNull();
    clock.now += 499;
    expect(await handle().takeSlot(bucket, 2, 1000)).toBeNull();
    clock.now += 1; // the first slot is now windowMs old
    expect(await handle().takeSlot(bucket, 2, 1000)).not.toBeNull();
    expect(await handle().takeSlot(bucket, 2, 1000)).toBeNull();
  });

  it('releaseSlot gives one slot back, once', async () => {
    const { handle } = make();
    const bucket = fresh('release');
    const first = (await handle().takeSlot(bucket, 2, 60_000)) as string;
    expect(await handle().takeSlot(bucket, 2, 60_000)).not.toBeNull();
    await handle().releaseSlot(bucket, first);
    await handle().releaseSlot(bucket, first);
    await handle().releaseSlot(bucket, 'not-a-token');
    expect(await handle().takeSlot(bucket, 2, 60_000)).not.toBeNull();
    expect(await handle().takeSlot(bucket, 2, 60_000)).toBeNull();
  });

  it('under concurrency from many handles the limit is never exceeded and no update is lost', async () => {
    const { handle } = make();
    const bucket = fresh('storm');
    const handles = Array.from({ length: 8 }, () => handle());
    const taken = await Promise.all(
      Array.from({ length: 48 }, (_, i) => (handles[i % 8] as StateStore).takeSlot(bucket, 10, 60_000)),
    );
    const held = taken.filter((t): t is string => t !== null);
    expect(held).toHaveLength(10);
    expect(new Set(held).size).toBe(10);
    // Five released while twenty more try, all at once: never more than 10 held.
    const [released, retaken] = await Promise.all([
      Promise.all(held.slice(0, 5).map((t, i) => (handles[i] as StateStore).releaseSlot(bucket, t))),
      Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (handles[(i + 3) % 8] as StateStore).takeSlot(bucket, 10, 60_000),
        ),
      ),
    ]);
    expect(released).toHaveLength(5);
    const gained = retaken.filter((t) => t !== null).length;
    expect(gained).toBeLessThanOrEqual(5);
    // What is left is exactly what the store should have: 10 - 5 + gained held.
    let more = 0;
    while ((await handle().takeSlot(bucket, 10, 60_000)) !== null) more += 1;
    expect(more).toBe(5 - gained);
  });
});

describe('config `state`', () => {
  const context = () => ({ logger: captureLogger(false).logger, simulated: null, env: {} });
  const base = { cloud: { driver: 'simulated' }, fencer: { driver: 'simulated' } };

  it('is memory by default, and a dynamodb section builds a store on that table', async () => {
    expect(parseConfig(base).state).toEqual({ driver: 'memory' });
    expect(await createStateStore({ driver: 'memory' }, context())).toBeInstanceOf(MemoryStateStore);
    const config = parseConfig({
      ...base,
      state: { driver: 'dynamodb', table: dynamo.table, endpoint: dynamo.endpoint, region: 'local' },
    });
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
    try {
      const store = await createStateStore(config.state, context());
      const key = fresh('configured');
      expect(await store.claimOnce(key, 60_000)).toBe(true);
      expect(await dynamo.store().claimOnce(key, 60_000)).toBe(false);
      await (store as { close?: () => Promise<void> }).close?.();
    } finally {
      process.env.AWS_ACCESS_KEY_ID = saved.id;
      process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    }
  });

  it('takes the table from FREEZER_DR_STATE_TABLE, and names what is wrong otherwise', async () => {
    const named = { ...context(), env: { FREEZER_DR_STATE_TABLE: 'from-env' } };
    await expect(createStateStore({ driver: 'dynamodb' }, named)).resolves.toBeDefined();
    await expect(createStateStore({ driver: 'dynamodb' }, context())).rejects.toThrow(
      'state (dynamodb): name the table (state.table) or set FREEZER_DR_STATE_TABLE',
    );
    expect(() => validateDriverSections(parseConfig({ ...base, state: { driver: 'redis' } }))).toThrow(
      'state.driver "redis" is unknown; choose one of: memory, dynamodb',
    );
    expect(() =>
      validateDriverSections(parseConfig({ ...base, state: { driver: 'dynamodb', tabel: 'x' } })),
    ).toThrow(/state \(dynamodb\): .*tabel/);
    expect(Object.keys(stateDrivers)).toEqual(['memory', 'dynamodb']);
  });
});
