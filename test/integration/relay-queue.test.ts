// Each host's line of calls in the relay, against a REAL ipmi_sim BMC: an `off` whose
// caller has gone never runs, power actions go ahead of status reads, and the line has a
// length and a wait limit (503 with the reason). "The BMC is busy" is the lab's hold on
// tool runs: a run is recorded when it starts, and waits there until released.
import http from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../infra/relay/protocol.js';
import { type BmcLab, startBmcLab } from '../support/bmc-lab.js';
import { ipmiEntry, type RelayLab, startRelayLab } from '../support/relay-lab.js';

let lab: BmcLab;
const relays: RelayLab[] = [];
const releases: (() => void)[] = [];

beforeAll(async () => {
  lab = await startBmcLab({ count: 1 });
});
afterAll(async () => {
  await lab?.stop();
});
afterEach(async () => {
  for (const release of releases.splice(0)) release();
  for (const relay of relays.splice(0)) await relay.close();
  if (!lab.bmc(0).hostRunning()) await lab.bmc(0).bootHostProcess();
});

const STATUS = '/v1/hosts/compute-1/power';
const OFF = `${STATUS}/off`;

async function relayWith(queue: { maxWaiting?: number; maxWaitMs?: number } = {}): Promise<RelayLab> {
  const relay = await startRelayLab({ 'compute-1': ipmiEntry(lab.bmc(0)) }, { queue });
  relays.push(relay);
  return relay;
}

/** Holds the relay's tool runs; released after the test whatever happens. */
function hold(relay: RelayLab): () => void {
  const release = relay.hold();
  releases.push(release);
  return release;
}

/** The ipmitool command (status, off, ...) of every run started so far, in order. */
const commands = (relay: RelayLab) => relay.spawned.map((run) => run.args.at(-1));

const waiting = (relay: RelayLab) => relay.relay.power.waiting('compute-1');

const audited = (relay: RelayLab) => relay.audit.map((line) => JSON.parse(line));

describe("a host's line of calls", () => {
  it('drops an off whose caller left while it waited: it never runs, the host stays on', async () => {
    const relay = await relayWith();
    const release = hold(relay);
    const first = relay.request('GET', STATUS);
    await expect.poll(() => commands(relay), { timeout: 60_000 }).toEqual(['status']);

    // A signed off that waits behind the status read; its caller then gives up.
    const { port } = new URL(relay.url);
    const off = http.request({
      host: '127.0.0.1',
      port,
      path: OFF,
      method: 'POST',
      headers: signRequest({ id: relay.keyId, secret: relay.key }, 'POST', OFF, '{}'),
    });
    off.on('error', () => undefined);
    off.end('{}');
    await expect.poll(() => waiting(relay), { timeout: 60_000 }).toBe(1);
    off.destroy();
    await expect.poll(() => waiting(relay), { timeout: 60_000 }).toBe(0);

    release();
    expect(await first).toMatchObject({ status: 200, json: { state: 'on' } });
    expect(commands(relay)).toEqual(['status']);
    expect((await relay.request('GET', STATUS)).json).toMatchObject({ state: 'on' });
    expect(commands(relay)).toEqual(['status', 'status']);
    expect(lab.bmc(0).hostRunning()).toBe(true);
    expect(audited(relay).find((line) => line.action === 'off')).toMatchObject({
      status: 499,
      outcome: 'caller-gone',
    });
  });

  it('puts power actions ahead of the status reads already waiting', async () => {
    const relay = await relayWith();
    const release = hold(relay);
    const first = relay.request('GET', STATUS);
    await expect.poll(() => commands(relay), { timeout: 60_000 }).toEqual(['status']);
    const reads = [1, 2, 3].map(() => relay.request('GET', STATUS));
    await expect.poll(() => waiting(relay), { timeout: 60_000 }).toBe(3);
    const off = relay.request('POST', OFF);
    await expect.poll(() => waiting(relay), { timeout: 60_000 }).toBe(4);

    release();
    expect(await off).toMatchObject({ status: 200, json: { action: 'off', error: null } });
    await first;
    const states = (await Promise.all(reads)).map((answer) => answer.json.state);
    expect(commands(relay)).toEqual(['status', 'off', 'status', 'status', 'status']);
    // Read after the off: each of the reads that waited sees the host off.
    expect(states).toEqual(['off', 'off', 'off']);
    expect(lab.bmc(0).hostRunning()).toBe(false);
  });

  it('is bounded: reads beyond the limit get 503 queue-full at once; an off still gets in, turning away the newest read', async () => {
    const relay = await relayWith({ maxWaiting: 3 });
    const release = hold(relay);
    const first = relay.request('GET', STATUS);
    await expect.poll(() => commands(relay), { timeout: 60_000 }).toEqual(['status']);
    const reads = [1, 2, 3, 4, 5].map(() => relay.request('GET', STATUS));
    await expect.poll(() => waiting(relay), { timeout: 60_000 }).toBe(3);
    // Two reads found the line full: answered while the BMC is still busy.
    await expect
      .poll(() => audited(relay).filter((line) => line.outcome === 'queue-full').length, { timeout: 60_000 })
      .toBe(2);

    const off = relay.request('POST', OFF);
    await expect
      .poll(() => audited(relay).filter((line) => line.outcome === 'queue-full').length, { timeout: 60_000 })
      .toBe(3);
    expect(waiting(relay)).toBe(3);

    // The fence drill is turned away for this host too, and says so.
    const drill = await relay.request('GET', '/v1/power');
    expect(drill.json.hosts).toEqual([
      expect.objectContaining({
        host: 'compute-1',
        state: null,
        error: expect.objectContaining({ class: 'busy' }),
      }),
    ]);

    release();
    expect(await off).toMatchObject({ status: 200, json: { action: 'off', error: null } });
    await first;
    const answers = await Promise.all(reads);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 503, 503, 503]);
    expect(answers.filter((a) => a.status === 503).map((a) => a.json.error)).toEqual([
      'queue-full',
      'queue-full',
      'queue-full',
    ]);
    expect(commands(relay)).toEqual(['status', 'off', 'status', 'status']);
  });

  it('bounds the wait: a read whose turn does not come in time gets 503 queue-wait-exceeded and never runs', async () => {
    const relay = await relayWith({ maxWaitMs: 300 });
    const release = hold(relay);
    const first = relay.request('GET', STATUS);
    await expect.poll(() => commands(relay), { timeout: 60_000 }).toEqual(['status']);
    // Answered while the BMC is still held: the wait ran out, not the BMC.
    expect(await relay.request('GET', STATUS)).toEqual({
      status: 503,
      json: { error: 'queue-wait-exceeded', detail: expect.stringContaining('without its turn coming') },
    });
    release();
    await first;
    expect(commands(relay)).toEqual(['status']);
  });
});
