// The relay driving REAL ipmi_sim BMCs with ipmitool: power control that the fake host
// process reflects, and every failure classified from ipmitool's stderr within bounded time.
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BmcLab, freeUdpPort, startBmcLab } from '../support/bmc-lab.js';
import { ipmiEntry, type RelayLab, startRelayLab } from '../support/relay-lab.js';

let lab: BmcLab;
let relay: RelayLab;
let silent: Socket;

beforeAll(async () => {
  lab = await startBmcLab({ count: 2 });
  // A bound UDP socket that never answers, and a port nothing listens on.
  silent = createSocket('udp4');
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', () => resolve()));
  const closedPort = await freeUdpPort();
  relay = await startRelayLab(
    {
      'compute-1': ipmiEntry(lab.bmc(0)),
      'compute-2': ipmiEntry(lab.bmc(1)),
      'compute-wrong-password': ipmiEntry(lab.bmc(1), { passwordFile: undefined, passwordEnv: 'WRONG' }),
      'compute-unknown-user': ipmiEntry(lab.bmc(1), { user: 'nobody' }),
      'compute-suite-17': ipmiEntry(lab.bmc(1), { cipherSuite: 17 }),
      'compute-no-password-file': ipmiEntry(lab.bmc(1), { passwordFile: '/nonexistent/ipmi.pass' }),
      'compute-closed-port': ipmiEntry(lab.bmc(1), { port: closedPort }),
      'compute-silent-port': ipmiEntry(lab.bmc(1), { port: silent.address().port }),
    },
    { env: { WRONG: 'wrong-password' } },
  );
});
afterAll(async () => {
  await relay?.close();
  silent?.close();
  await lab?.stop();
});

const status = (host: string) => relay.request('GET', `/v1/hosts/${host}/power`);
const act = (host: string, action: string) => relay.request('POST', `/v1/hosts/${host}/power/${action}`);

describe('power control through the relay', () => {
  it('reads on, powers off (the host process dies), reads off, powers on again', async () => {
    const bmc = lab.bmc(0);
    const hostPid = bmc.hostPid();
    expect(hostPid).not.toBeNull();
    expect((await status('compute-1')).json).toMatchObject({ state: 'on', error: null, kind: 'ipmi' });

    const off = await act('compute-1', 'off');
    expect(off).toMatchObject({ status: 200, json: { action: 'off', error: null } });
    expect(bmc.hostRunning()).toBe(false);
    expect((await status('compute-1')).json.state).toBe('off');

    expect((await act('compute-1', 'on')).status).toBe(200);
    expect(bmc.hostPid()).not.toBeNull();
    expect(bmc.hostPid()).not.toBe(hostPid);
    expect((await status('compute-1')).json.state).toBe('on');
  });

  it('cycles: the host comes back as a new process', async () => {
    const bmc = lab.bmc(0);
    const before = bmc.hostPid();
    expect((await act('compute-1', 'cycle')).status).toBe(200);
    // ipmi_sim powers back on 1 s after the off: wait for the new process, however slow the machine.
    await expect
      .poll(() => bmc.hostRunning() && bmc.hostPid() !== before, { timeout: 20_000, interval: 100 })
      .toBe(true);
    expect(bmc.hostPid()).not.toBeNull();
  });

  it('reports a BMC that refuses the off (completion code 0xff) as command-failed', async () => {
    const bmc = lab.bmc(1);
    bmc.setFault({ kind: 'fail_off' });
    try {
      const { status: code, json } = await act('compute-2', 'off');
      expect(code).toBe(502);
      expect(json.error).toEqual({
        class: 'command-failed',
        message: expect.stringMatching(/BMC refused the off: .*Unspecified error/),
      });
      expect(bmc.hostRunning()).toBe(true);
    } finally {
      bmc.setFault({ kind: 'none' });
    }
  });
});

describe('failures are classified from ipmitool stderr, each after one short try', () => {
  it('wrong password and unknown user: auth-failed, fast', async () => {
    for (const host of ['compute-wrong-password', 'compute-unknown-user']) {
      const { status: code, json } = await status(host);
      expect(code).toBe(502);
      expect((json.error as { class: string }).class, host).toBe('auth-failed');
      expect((json.error as { message: string }).message).toMatch(/RAKP 2|unauthorized name/);
    }
  });

  it('a cipher suite the BMC does not offer is named as such', async () => {
    const { json } = await status('compute-suite-17');
    expect(json.error).toEqual({
      class: 'auth-failed',
      message: expect.stringContaining('BMC rejected cipher suite'),
    });
  });

  it('an unreadable password file is a relay configuration error, and ipmitool never runs', async () => {
    const runs = relay.spawned.length;
    const { json } = await status('compute-no-password-file');
    expect(json.error).toEqual({
      class: 'config',
      message: expect.stringMatching(/cannot read BMC password.*ENOENT/),
    });
    expect(relay.spawned.length).toBe(runs);
  });

  it('closed and silent ports: unreachable after one short try (-N 1 -R 1), not ~20 s', async () => {
    const runs = relay.spawned.length;
    const [closed, silentAnswer] = await Promise.all([
      status('compute-closed-port'),
      status('compute-silent-port'),
    ]);
    for (const { json } of [closed, silentAnswer]) {
      expect(json.error).toEqual({
        class: 'unreachable',
        message: expect.stringContaining('BMC unreachable'),
      });
    }
    // What bounds the time: one retry with a 1 s timeout, passed to ipmitool on every run.
    const argv = relay.spawned.slice(runs).map((run) => run.args.join(' '));
    expect(argv).toHaveLength(2);
    for (const args of argv) expect(args).toMatch(/ -N 1 -R 1 /);
  });
});

describe('GET /v1/power (the fence drill endpoint)', () => {
  it('reads every host in the inventory and reports each failure by class', async () => {
    const { status: code, json } = await relay.request('GET', '/v1/power');
    expect(code).toBe(200);
    const hosts = json.hosts as { host: string; state: string | null; error: { class: string } | null }[];
    const byHost = Object.fromEntries(hosts.map((h) => [h.host, h.error?.class ?? h.state]));
    expect(byHost).toEqual({
      'compute-1': 'on',
      'compute-2': 'on',
      'compute-wrong-password': 'auth-failed',
      'compute-unknown-user': 'auth-failed',
      'compute-suite-17': 'auth-failed',
      'compute-no-password-file': 'config',
      'compute-closed-port': 'unreachable',
      'compute-silent-port': 'unreachable',
    });
    const line = JSON.parse(relay.audit.at(-1) as string);
    expect(line).toMatchObject({ path: '/v1/power', status: 200, outcome: '2 ok, 6 failed' });
  });
});

describe('a hung BMC', () => {
  it('status of a BMC that stalls 3 s per request is unreachable: ipmitool gives up first', async () => {
    const bmc = lab.bmc(1);
    bmc.setFault({ kind: 'hang', seconds: 3 });
    try {
      const read = await status('compute-2');
      expect(read.json.error).toMatchObject({ class: 'unreachable' });
    } finally {
      bmc.setFault({ kind: 'none' });
    }
  });
});
