// The libvirt-relay fencer with virsh's daemonless test driver (test:///default).
// That driver keeps domain state only inside one connection, so the relay runs
// destroy and domstate in ONE virsh process and answers with the state it read there.
// A later status read is a new connection and sees the domain running again: with this
// driver the workflow can never verify a power-off (correctly), a real libvirtd can.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import { FENCE_NOT_VERIFIED } from '../../core/errors.js';
import { fenceHost } from '../../core/fence-host.js';
import { verifyPowerOff } from '../../core/verify-power-off.js';
import { createRuntime, type LocalRuntime } from '../../engine/runtime.js';
import { parseInventory } from '../../infra/relay/inventory.js';
import { requireBmcTools } from '../support/bmc-lab.js';
import { captureLogger } from '../support/capture-logger.js';
import { type RelayLab, startRelayLab } from '../support/relay-lab.js';

let relay: RelayLab;
let rt: LocalRuntime;

beforeAll(async () => {
  requireBmcTools(['virsh']);
  relay = await startRelayLab({
    // The host name is the domain name unless `domain` says otherwise.
    test: { kind: 'libvirt', uri: 'test:///default' },
    'compute-vm': { kind: 'libvirt', uri: 'test:///default', domain: 'test' },
    'compute-missing': { kind: 'libvirt', uri: 'test:///default', domain: 'nosuch' },
    'compute-no-daemon': { kind: 'libvirt', uri: 'qemu+tcp://127.0.0.1:1/system', timeoutMs: 5000 },
  });
  const config = parseConfig({
    cloud: { driver: 'simulated', hosts: ['compute-vm'], serversPerHost: 0 },
    fencer: relay.fencerConfig('libvirt-relay'),
    recovery: { fence: { verifyTimeoutSeconds: 0.5, pollIntervalMs: 100 } },
  });
  rt = await createRuntime(config, { logger: captureLogger().logger });
});
afterAll(async () => {
  await rt?.simulated?.close();
  await relay?.close();
});

describe('libvirt-relay fencer (virsh test:///default)', () => {
  it('reads a running domain as on', async () => {
    expect(await rt.fencer.powerStatus('compute-vm')).toBe('on');
    expect(await rt.fencer.powerStatus('test')).toBe('on');
  });

  it('off runs destroy and domstate in one virsh session and answers the state read there', async () => {
    const runs = relay.spawned.length;
    const { status, json } = await relay.request('POST', '/v1/hosts/compute-vm/power/off');
    expect(status).toBe(200);
    expect(json).toMatchObject({ kind: 'libvirt', action: 'off', state: 'off', error: null });
    expect(relay.spawned.slice(runs)).toEqual([
      {
        file: 'virsh',
        args: ['-q', '-c', 'test:///default', 'destroy test; domstate test'],
        env: {},
        timeoutMs: 15_000,
      },
    ]);
    await expect(rt.fencer.powerOff('compute-vm')).resolves.toBeUndefined();
  });

  it('each call is a new connection: the test driver forgets the destroy, so the fence is not verified', async () => {
    const fence = await fenceHost(rt, { host: 'compute-vm' });
    expect(fence).toMatchObject({ before: 'on', offRequested: true, offError: null });
    await expect(verifyPowerOff(rt, { host: 'compute-vm', offError: fence.offError })).rejects.toMatchObject({
      name: FENCE_NOT_VERIFIED,
      message: expect.stringMatching(
        /compute-vm \(libvirt test:\/\/\/default via relay .*\) not verified.*power reads on/,
      ),
    });
  });

  it('cycle and on end with the domain running', async () => {
    for (const action of ['cycle', 'on']) {
      const { json } = await relay.request('POST', `/v1/hosts/compute-vm/power/${action}`);
      expect(json, action).toMatchObject({ state: 'on', error: null });
    }
  });

  it('an unknown domain is command-failed; a hypervisor that cannot be reached is unreachable', async () => {
    await expect(rt.fencer.powerOff('compute-missing')).rejects.toThrow(
      /command-failed: .*failed to get domain 'nosuch'/,
    );
    await expect(rt.fencer.powerStatus('compute-no-daemon')).rejects.toThrow(
      /unreachable: hypervisor unreachable/,
    );
  });

  it('rejects domain names and URIs that could split the virsh command string', () => {
    for (const entry of [
      { kind: 'libvirt', uri: 'test:///default', domain: 'a; destroy b' },
      { kind: 'libvirt', uri: 'test:///default', domain: '-h' },
      { kind: 'libvirt', uri: 'test:///default; destroy b' },
      { kind: 'libvirt', uri: "test:///default'" },
    ]) {
      expect(() => parseInventory({ hosts: { vm: entry } })).toThrow(/inventory is invalid/);
    }
  });
});
