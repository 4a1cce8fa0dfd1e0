// The redfish-relay fencer: the relay posts ComputerSystem.Reset ForceOff and reads
// PowerState. The BMC here is a MOCK (test/support/redfish-mock.ts): Debian has no
// Redfish emulator, so this proves our client and the fence contract, not a real BMC.
import { createServer } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import { FENCE_NOT_VERIFIED, type WorkflowError } from '../../core/errors.js';
import { fenceHost } from '../../core/fence-host.js';
import { verifyPowerOff } from '../../core/verify-power-off.js';
import { createRuntime, type LocalRuntime } from '../../engine/runtime.js';
import { parseInventory } from '../../infra/relay/inventory.js';
import { captureLogger } from '../support/capture-logger.js';
import { type RedfishMock, startRedfishMock } from '../support/redfish-mock.js';
import { type RelayLab, startRelayLab } from '../support/relay-lab.js';
import { type SelfSigned, selfSignedCertificate } from '../support/self-signed.js';

const USER = 'fence';
const PASSWORD = `rf-${Math.random().toString(36).slice(2, 12)}`;

let bmc: RedfishMock;
let tlsBmc: RedfishMock;
let tls: SelfSigned;
let relay: RelayLab;
let rt: LocalRuntime;

async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const redfish = (url: string, extra: Record<string, unknown> = {}) => ({
  kind: 'redfish',
  url,
  user: USER,
  passwordEnv: 'RF_PASSWORD',
  timeoutMs: 1000,
  // The mock BMCs without TLS listen on 127.0.0.1; a real entry has to say so the same way.
  ...(url.startsWith('http:') ? { allowPlainHttp: true } : {}),
  ...extra,
});

beforeAll(async () => {
  bmc = await startRedfishMock({ user: USER, password: PASSWORD });
  tls = selfSignedCertificate('bmc.test');
  tlsBmc = await startRedfishMock({ user: USER, password: PASSWORD, tls });
  relay = await startRelayLab(
    {
      'compute-r1': redfish(bmc.url),
      'compute-r-wrong': redfish(bmc.url, { passwordEnv: 'RF_WRONG' }),
      'compute-r-dead': redfish(`http://127.0.0.1:${await freeTcpPort()}`),
      'compute-r-tls': redfish(tlsBmc.url, { caFile: tls.certFile }),
      'compute-r-tls-untrusted': redfish(tlsBmc.url),
    },
    { env: { RF_PASSWORD: PASSWORD, RF_WRONG: 'wrong' } },
  );
  const config = parseConfig({
    cloud: { driver: 'simulated', hosts: ['compute-r1'], serversPerHost: 0 },
    fencer: relay.fencerConfig('redfish-relay'),
    recovery: { fence: { verifyTimeoutSeconds: 1.5, pollIntervalMs: 200 } },
  });
  rt = await createRuntime(config, { logger: captureLogger().logger });
});
afterAll(async () => {
  await rt?.simulated?.close();
  await relay?.close();
  await bmc?.close();
  await tlsBmc?.close();
  tls?.remove();
});
beforeEach(() => {
  bmc.power = 'On';
  bmc.fault = 'none';
});

async function fenceAndVerify(host: string) {
  const fence = await fenceHost(rt, { host });
  try {
    return { fence, verify: await verifyPowerOff(rt, { host, offError: fence.offError }), error: null };
  } catch (error) {
    return { fence, verify: null, error: error as WorkflowError };
  }
}

describe('redfish-relay fencer (against a MOCK Redfish BMC)', () => {
  it('ForceOff, then PowerState Off: verified', async () => {
    const result = await fenceAndVerify('compute-r1');
    expect(result.error).toBeNull();
    expect(result.fence).toMatchObject({ method: 'redfish-relay', before: 'on', offError: null });
    expect(result.verify?.verified).toBe(true);
    expect(bmc.power).toBe('Off');
    const reset = bmc.requests.find((r) => r.method === 'POST');
    expect(reset).toMatchObject({
      path: '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset',
      body: '{"ResetType":"ForceOff"}',
      authorized: true,
    });
    expect(rt.fencer.describe('compute-r1')).toMatch(
      /^redfish 127\.0\.0\.1:\d+\/redfish\/v1\/Systems\/1 via relay/,
    );
  });

  it('powers on with ResetType On', async () => {
    bmc.power = 'Off';
    await rt.fencer.powerOn('compute-r1');
    expect(bmc.power).toBe('On');
    expect(bmc.requests.at(-2)?.body).toBe('{"ResetType":"On"}');
  });

  it('PoweringOff is not off: a slow BMC is verified only once it reads Off', async () => {
    bmc.fault = 'slow_off';
    const result = await fenceAndVerify('compute-r1');
    expect(result.verify?.verified).toBe(true);
    expect(result.verify?.polls).toBeGreaterThan(1);
  });

  it('a BMC that acknowledges ForceOff and stays On fails the fence', async () => {
    bmc.fault = 'ignore_off';
    const result = await fenceAndVerify('compute-r1');
    expect(result.fence.offError).toBeNull();
    expect(result.error?.name).toBe(FENCE_NOT_VERIFIED);
    expect(result.error?.message).toMatch(
      /compute-r1 \(redfish 127\.0\.0\.1:\d+.*\) not verified .*power reads on/,
    );
  });

  it('HTTP 500 or no answer to the reset: may have run, the power state decides', async () => {
    bmc.fault = 'fail_reset';
    await expect(rt.fencer.powerOff('compute-r1')).rejects.toThrow(
      /may-have-run: BMC answered HTTP 500 to the reset: Internal error/,
    );
    bmc.fault = 'hang_reset';
    await expect(rt.fencer.powerOff('compute-r1')).rejects.toThrow(/may-have-run: no answer to the reset/);
  });

  it('a BMC trickling its answer a byte at a time is cut at timeoutMs (a deadline, not an idle timeout)', async () => {
    bmc.fault = 'trickle';
    const cut = bmc.cut;
    await expect(rt.fencer.powerStatus('compute-r1')).rejects.toThrow(
      /unreachable: BMC unreachable: .*no complete answer within 1000 ms/,
    );
    // The relay closed the trickle (seen by the mock a moment later).
    await expect.poll(() => bmc.cut, { timeout: 60_000 }).toBe(cut + 1);
  });

  it('an answer without end is refused once it passes the size cap, not read to the end', async () => {
    bmc.fault = 'endless';
    const cut = bmc.cut;
    await expect(rt.fencer.powerStatus('compute-r1')).rejects.toThrow(
      /command-failed: BMC answer to GET \/redfish\/v1\/Systems\/1 is larger than 262144 bytes/,
    );
    await expect.poll(() => bmc.cut, { timeout: 60_000 }).toBe(cut + 1);
  });

  it('wrong password: auth-failed; unreachable BMC: unreachable, fast', async () => {
    await expect(rt.fencer.powerStatus('compute-r-wrong')).rejects.toThrow(
      /auth-failed: BMC rejected the credentials \(HTTP 401\)/,
    );
    await expect(rt.fencer.powerStatus('compute-r-dead')).rejects.toThrow(
      /unreachable: BMC unreachable: ECONNREFUSED/,
    );
  });

  it('HTTPS BMC: trusted through caFile; an untrusted certificate is a configuration error', async () => {
    expect(await rt.fencer.powerStatus('compute-r-tls')).toBe('on');
    await expect(rt.fencer.powerStatus('compute-r-tls-untrusted')).rejects.toThrow(
      /config: BMC certificate not trusted \(set caFile\)/,
    );
  });

  it('the ipmi-relay fencer is refused for a host the relay lists as redfish', async () => {
    const ipmi = await createRuntime(
      parseConfig({ cloud: { driver: 'simulated', hosts: [] }, fencer: relay.fencerConfig('ipmi-relay') }),
      {
        logger: captureLogger().logger,
      },
    );
    try {
      await expect(ipmi.fencer.powerOff('compute-r1')).rejects.toThrow(
        /HTTP 409 kind-mismatch \(compute-r1 is controlled by redfish, not ipmi\)/,
      );
      expect(bmc.power).toBe('On');
    } finally {
      await ipmi.simulated?.close();
    }
  });

  it('masks a password a BMC echoes before clipping its message: no prefix reaches errors or audit', async () => {
    bmc.fault = 'echo_password';
    const error = await rt.fencer.powerStatus('compute-r1').then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/command-failed: BMC answered HTTP 400 .*the BMC quotes the password/);
    expect(error?.message).not.toContain(PASSWORD.slice(0, 4));
    expect(relay.audit.join('\n')).not.toContain(PASSWORD.slice(0, 4));
  });

  it('refuses a plain http:// BMC URL unless its inventory entry says allowPlainHttp', () => {
    const entry = { kind: 'redfish', url: 'http://10.30.0.12', user: USER, passwordEnv: 'RF_PASSWORD' };
    expect(() => parseInventory({ hosts: { c: entry } })).toThrow(
      /hosts\.c\.url: .*sends the BMC password in clear.*allowPlainHttp: true/,
    );
    expect(parseInventory({ hosts: { c: { ...entry, allowPlainHttp: true } } }).hosts.c?.kind).toBe(
      'redfish',
    );
    expect(parseInventory({ hosts: { c: { ...entry, url: 'https://10.30.0.12' } } }).hosts.c?.kind).toBe(
      'redfish',
    );
  });

  it('never writes the BMC password into an audit line', () => {
    expect(relay.audit.join('\n')).not.toContain(PASSWORD);
    expect(relay.spawned).toHaveLength(0);
  });
});
