// The fencer believes only answers the relay signed for the very request it sent: a fake
// relay's "off" (unsigned, signed with another key, or a genuine answer replayed from an
// earlier request) is never a power reading. And a relay off loopback is reached over
// HTTPS unless the config says allowPlainHttp. Real ipmi_sim BMC behind the real relay.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RelayFencer } from '../../drivers/fencer/relay-fencer.js';
import { createRelayFencer, relayFencerSchema } from '../../drivers/fencer/relay-options.js';
import { HEADER, type HostPowerAnswer, signAnswer, verifyAnswer } from '../../infra/relay/protocol.js';
import { type BmcLab, startBmcLab } from '../support/bmc-lab.js';
import { ipmiEntry, type RelayLab, startRelayLab } from '../support/relay-lab.js';

let lab: BmcLab;
let relay: RelayLab;
const fakes: Server[] = [];

beforeAll(async () => {
  lab = await startBmcLab({ count: 1 });
  relay = await startRelayLab({ 'compute-1': ipmiEntry(lab.bmc(0)) });
});
afterAll(async () => {
  await relay?.close();
  await lab?.stop();
});
afterEach(async () => {
  for (const server of fakes.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

const OFF: HostPowerAnswer = {
  host: 'compute-1',
  kind: 'ipmi',
  controller: 'ipmi lanplus 127.0.0.1:623',
  action: 'status',
  state: 'off',
  error: null,
  ms: 12,
};

interface Seen {
  method: string;
  path: string;
  nonce: string;
}

/** Something on 127.0.0.1 that is not the relay: answers every request as `answer` says. */
async function fakeRelay(
  answer: (seen: Seen) => { status: number; body: string; headers?: Record<string, string> },
): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    req.resume();
    req.on('end', () => {
      const request = {
        method: req.method ?? '',
        path: req.url ?? '',
        nonce: String(req.headers[HEADER.nonce] ?? ''),
      };
      seen.push(request);
      const { status, body, headers = {} } = answer(request);
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fakes.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const fencerAt = (url: string): Promise<RelayFencer> =>
  createRelayFencer(
    'ipmi-relay',
    'ipmi',
    relayFencerSchema('ipmi-relay').parse({ ...relay.fencerConfig('ipmi-relay'), url, timeoutMs: 5000 }),
    {},
  );

/** What powerStatus gave: a reading, or the error's message. */
const readPower = (fencer: RelayFencer, host = 'compute-1') =>
  fencer.powerStatus(host).then(
    (state) => ({ state, error: null }),
    (error: Error) => ({ state: null, error: error.message }),
  );

describe('the relay signs its answers', () => {
  it('every answer to an authenticated request carries a MAC over its request (method, path, nonce) and itself', async () => {
    for (const [method, path] of [
      ['GET', '/v1/hosts/compute-1/power'],
      ['GET', '/v1/hosts/compute-9/power'],
      ['POST', '/v1/hosts/compute-1/power/reset'],
    ] as const) {
      const answer = await relay.raw(method, path);
      expect(answer.status, path).not.toBe(401);
      expect(
        verifyAnswer(
          relay.key,
          { method, path, nonce: answer.nonce, status: answer.status, body: answer.body },
          answer.signature,
        ),
        `${method} ${path} -> ${answer.status}`,
      ).toBe(true);
      // Bound to this request: the same answer does not verify for another nonce, path or status.
      const other = { method, path, nonce: 'f'.repeat(32), status: answer.status, body: answer.body };
      expect(verifyAnswer(relay.key, other, answer.signature)).toBe(false);
      expect(
        verifyAnswer(relay.key, { ...other, nonce: answer.nonce, path: `${path}x` }, answer.signature),
      ).toBe(false);
      expect(
        verifyAnswer(relay.key, { ...other, nonce: answer.nonce, status: 200 + 1 }, answer.signature),
      ).toBe(false);
    }
    const unsigned = await relay.raw('GET', '/v1/hosts/compute-1/power', { sign: false });
    expect(unsigned).toMatchObject({ status: 401, signature: undefined });
  });
});

describe('the fencer trusts only answers the relay signed for its request', () => {
  it('reads the real relay through its signed answers', async () => {
    expect(await readPower(await fencerAt(relay.url))).toEqual({ state: 'on', error: null });
  });

  it('an unsigned "off" from something that is not the relay is no reading', async () => {
    const fake = await fakeRelay(() => ({ status: 200, body: JSON.stringify(OFF) }));
    const fencer = await fencerAt(fake.url);
    const read = await readPower(fencer);
    expect(read.state).toBeNull();
    expect(read.error).toMatch(/not signed by the relay for this request/);
    await expect(fencer.powerOff('compute-1')).rejects.toThrow(/not signed by the relay/);
    expect(fake.seen.length).toBeGreaterThanOrEqual(2);
  });

  it('an "off" signed with another key, over the right request and nonce, is no reading', async () => {
    const otherKey = randomBytes(32);
    const fake = await fakeRelay((seen) => {
      const body = JSON.stringify(OFF);
      const signature = signAnswer(otherKey, { ...seen, status: 200, body });
      return { status: 200, body, headers: { [HEADER.answerSignature]: signature } };
    });
    const read = await readPower(await fencerAt(fake.url));
    expect(read).toEqual({ state: null, error: expect.stringMatching(/not signed by the relay/) });
  });

  it('a genuine signed answer replayed to a later request (another nonce) is no reading', async () => {
    // A real "off" answer of the real relay, for one request.
    const bmc = lab.bmc(0);
    expect((await relay.request('POST', '/v1/hosts/compute-1/power/off')).status).toBe(200);
    const genuine = await relay.raw('GET', '/v1/hosts/compute-1/power?kind=ipmi');
    expect(JSON.parse(genuine.body)).toMatchObject({ state: 'off' });
    await bmc.bootHostProcess();
    expect(bmc.hostRunning()).toBe(true);
    // Replayed byte for byte, signature included, to whatever asks next.
    const fake = await fakeRelay(() => ({
      status: genuine.status,
      body: genuine.body,
      headers: { [HEADER.answerSignature]: genuine.signature ?? '' },
    }));
    const read = await readPower(await fencerAt(fake.url));
    expect(read).toEqual({
      state: null,
      error: expect.stringMatching(/not signed by the relay for this request/),
    });
    expect(bmc.hostRunning()).toBe(true);
  });

  it('a signed answer about another host or action than the one asked is refused', async () => {
    const fake = await fakeRelay((seen) => {
      const body = JSON.stringify({ ...OFF, host: 'compute-2' });
      return {
        status: 200,
        body,
        headers: { [HEADER.answerSignature]: signAnswer(relay.key, { ...seen, status: 200, body }) },
      };
    });
    const read = await readPower(await fencerAt(fake.url));
    expect(read).toEqual({ state: null, error: expect.stringMatching(/answered for compute-2 status/) });
  });
});

describe('a relay (or something in its place) that never finishes its answer', () => {
  const streaming = async (chunk: string, everyMs: number) => {
    const server = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      const timer = setInterval(() => {
        if (!res.writableNeedDrain) res.write(chunk);
      }, everyMs);
      res.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fakes.push(server);
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const quickFencer = async (url: string) =>
    createRelayFencer(
      'ipmi-relay',
      'ipmi',
      relayFencerSchema('ipmi-relay').parse({ ...relay.fencerConfig('ipmi-relay'), url, timeoutMs: 1000 }),
      {},
    );

  it('a byte at a time: given up at timeoutMs, a deadline and not an idle timeout', async () => {
    const read = await readPower(await quickFencer(await streaming(' ', 100)));
    expect(read).toEqual({
      state: null,
      error: expect.stringMatching(/gave no complete answer within 1000 ms/),
    });
  });

  it('without end: refused once past the size cap', async () => {
    const read = await readPower(await quickFencer(await streaming(' '.repeat(64 * 1024), 1)));
    expect(read).toEqual({ state: null, error: expect.stringMatching(/answer is larger than \d+ bytes/) });
  });
});

describe('plain HTTP to the relay', () => {
  const parse = (url: string, extra: Record<string, unknown> = {}) =>
    relayFencerSchema('ipmi-relay').safeParse({ driver: 'ipmi-relay', url, key: { env: 'K' }, ...extra });

  it('is refused off loopback unless the fencer config says allowPlainHttp', () => {
    for (const url of ['http://10.20.0.5:8443', 'http://relay.mgmt:8443', 'http://127.evil.example:8443']) {
      const result = parse(url);
      expect(result.success, url).toBe(false);
      expect(result.error?.issues[0]).toMatchObject({
        path: ['url'],
        message: expect.stringContaining('allowPlainHttp: true'),
      });
    }
    for (const url of [
      'https://10.20.0.5:8443',
      'http://127.0.0.1:8443',
      'http://[::1]:8443',
      'http://localhost:1',
    ]) {
      expect(parse(url).success, url).toBe(true);
    }
    expect(parse('http://10.20.0.5:8443', { allowPlainHttp: true }).success).toBe(true);
  });

  it('is refused by the client itself, whatever built its options', async () => {
    const options = relayFencerSchema('ipmi-relay').parse({
      ...relay.fencerConfig('ipmi-relay'),
      url: 'http://10.20.0.5:8443',
      allowPlainHttp: true,
    });
    await expect(
      createRelayFencer('ipmi-relay', 'ipmi', { ...options, allowPlainHttp: false }, {}),
    ).rejects.toThrow(/refusing plain http:\/\/ to the relay at 10\.20\.0\.5:8443/);
  });
});
