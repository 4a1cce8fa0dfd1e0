// Idle connections cannot starve the relay: it holds at most `connections.max` sockets,
// and a socket that sends no complete request headers (or, over TLS, no handshake) is
// closed once headersTimeout has passed, checked every second. Sockets that never send a
// byte stand in for the attack (300 such sockets held the relay ~26 s before).
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type RelayLab, startRelayLab } from '../support/relay-lab.js';
import { selfSignedCertificate } from '../support/self-signed.js';

const relays: RelayLab[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const relay of relays.splice(0)) await relay.close();
});

// libvirt's daemonless test driver: a status read that needs no BMC.
const HOSTS = { test: { kind: 'libvirt', uri: 'test:///default' } };

async function relayWith(options: Parameters<typeof startRelayLab>[1]): Promise<RelayLab> {
  const relay = await startRelayLab(HOSTS, options);
  relays.push(relay);
  return relay;
}

/** `count` connections that never send a byte; `closed()` says how many the relay has closed. */
async function idle(relay: RelayLab, count: number) {
  const { port } = new URL(relay.url);
  let closed = 0;
  const opened = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Socket>((resolve, reject) => {
          const socket = connect(Number(port), '127.0.0.1', () => resolve(socket));
          // Read (and drop) whatever comes, so the relay's close is seen.
          socket.resume();
          socket.on('error', () => undefined);
          socket.once('close', () => {
            closed += 1;
          });
          socket.once('error', reject);
        }),
    ),
  );
  sockets.push(...opened);
  return { closed: () => closed };
}

describe('idle connections', () => {
  it('holds at most connections.max sockets: the ones beyond are closed at once', async () => {
    // Header timeouts far away: only the cap can close anything here.
    const relay = await relayWith({
      connections: { max: 20, headersTimeoutMs: 60_000, requestTimeoutMs: 60_000 },
    });
    const sockets = await idle(relay, 30);
    await expect.poll(sockets.closed, { timeout: 60_000 }).toBe(10);
    // The cap is full: the relay takes no more connections, so it never runs out of descriptors.
    await expect(relay.request('GET', '/v1/hosts/test/power')).rejects.toThrow();
    expect(sockets.closed()).toBe(10);
  });

  it('closes sockets that send no headers once headersTimeout has passed (checked every second); signed requests then get through', async () => {
    const relay = await relayWith({
      connections: { max: 20, headersTimeoutMs: 1000, requestTimeoutMs: 2000 },
    });
    const sockets = await idle(relay, 20);
    // Before, headersTimeout (10 s) was checked every 30 s: such sockets stayed up to 40 s.
    // Closed in about 2 s now; 25 s leaves a busy machine room and still tells the two apart.
    await expect.poll(sockets.closed, { timeout: 25_000, interval: 200 }).toBe(20);
    expect(await relay.request('GET', '/v1/hosts/test/power')).toMatchObject({
      status: 200,
      json: { state: 'on' },
    });
  });

  it('over TLS, closes sockets that never start the handshake within headersTimeout', async () => {
    const tls = selfSignedCertificate('relay.test');
    try {
      const relay = await relayWith({
        tls,
        connections: { max: 20, headersTimeoutMs: 1000, requestTimeoutMs: 2000 },
      });
      const sockets = await idle(relay, 5);
      // Node's own handshake timeout is 120 s.
      await expect.poll(sockets.closed, { timeout: 25_000, interval: 200 }).toBe(5);
    } finally {
      tls.remove();
    }
  });
});
