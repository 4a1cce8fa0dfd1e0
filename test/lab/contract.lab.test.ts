// The cloud driver's contract suite against the lab's REAL Nova 26: servers booted pinned
// at 2.74 (no network, flavor 1, image lab-tiny); a host fails by a BMC power-off over
// IPMI (its nova-compute is SIGKILLed by the BMC) and comes back by a power-on. Page
// size 2, so every listing of the three servers on the victim follows pagination.
import { afterAll, beforeAll } from 'vitest';
import { defineCloudContract } from '../contract/cloud-contract.js';
import { bmcPower, ipmi, labCloud } from './lab-env.js';
import { LabNova, until } from './lab-nova.js';

const nova = new LabNova(labCloud());

beforeAll(() => nova.healLab(), 600_000);
afterAll(() => nova.healLab(), 600_000);

defineCloudContract(
  'REAL Nova 26 (test/lab)',
  async () => {
    await nova.healLab();
    return {
      cloud: labCloud({ pageSize: 2 }),
      victim: 'compute-1',
      healthy: ['compute-2', 'compute-3'],
      createServer: async (host, name, metadata) =>
        (await nova.bootActive([{ host, name, ...(metadata ? { metadata } : {}) }]))[0] as string,
      failHost: async (host) => {
        await ipmi(host, 'chassis', 'power', 'off');
        await until(`${host} power off`, async () => (await bmcPower(host)) === 'off', 20_000, 200);
      },
      reviveHost: async (host) => {
        await ipmi(host, 'chassis', 'power', 'on');
        await until(`${host} power on`, async () => (await bmcPower(host)) === 'on', 20_000, 200);
      },
      deleteServer: (id) => nova.deleteServers([id]),
      stopServer: (id) => nova.stop(id),
      pollMs: 500,
      settleTimeoutMs: 180_000,
    };
  },
  async () => undefined,
);
