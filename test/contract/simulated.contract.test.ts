import { OpenStackCloud } from '../../drivers/cloud/openstack/nova.js';
import { type SimulatedCloud, startSimulatedCloud } from '../../drivers/cloud/simulated/server.js';
import { defineCloudContract } from './cloud-contract.js';

let sim: SimulatedCloud;

defineCloudContract(
  'SIMULATED cloud',
  async () => {
    sim = await startSimulatedCloud({ evacuateMs: 40, liveMigrateMs: 40, coldMigrateMs: 40 });
    return {
      cloud: new OpenStackCloud(sim.connection, { pageSize: 2 }),
      victim: 'compute-1',
      healthy: ['compute-2', 'compute-3'],
      createServer: async (host, name, metadata) =>
        sim.state.addServer({ host, name, ...(metadata ? { metadata } : {}) }).id,
      failHost: async (host) => sim.state.killCompute(host),
      reviveHost: async (host) => sim.state.startCompute(host),
      deleteServer: async (id) => {
        sim.state.servers.delete(id);
      },
      stopServer: async (id) => {
        const server = sim.state.servers.get(id);
        if (server) server.vmState = 'stopped';
      },
      pollMs: 10,
      settleTimeoutMs: 5000,
    };
  },
  async () => sim.close(),
);
