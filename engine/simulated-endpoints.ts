// SIMULATED cloud only, local only: the routes `fire`, `restore`, `plan` and `hosts` use
// to reach the simulated cloud that lives inside `freezer-dr serve`. Nothing here exists
// with a real cloud, and requests from anything but loopback are refused.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimulatedCloud } from '../drivers/cloud/simulated/server.js';
import { SimulatedFencer } from '../drivers/fencer/simulated.js';
import { isLoopback } from './local-config.js';

export const SIMULATED_PREFIX = '/simulated/';
/** How far back a failed host's last report is dated, so Nova reports it down at once (service_down_time is 60 s). */
const FAILED_REPORT_AGE_MS = 120_000;

export async function handleSimulated(
  sim: SimulatedCloud,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  const reply = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const remote = req.socket.remoteAddress ?? '';
  if (!isLoopback(remote.replace(/^::ffff:/, '')))
    return reply(403, { error: 'simulated routes answer loopback only' });
  const fencer = new SimulatedFencer(sim.state);
  const [verb, host, action] = path.slice(SIMULATED_PREFIX.length).split('/').map(decodeURIComponent);
  const known = host !== undefined && sim.state.hosts.has(host);
  try {
    if (req.method === 'GET' && verb === 'connection') {
      // The simulated Keystone's admin credentials (random per process), for the CLI's own Nova client.
      return reply(200, { connection: sim.connection, hosts: [...sim.state.hosts.keys()] });
    }
    if (!known) return reply(404, { error: `the simulated cloud has no host ${host ?? ''}` });
    if (req.method === 'POST' && verb === 'fail') {
      sim.state.killCompute(host, { reportedAgoMs: FAILED_REPORT_AGE_MS });
      return reply(200, {
        host,
        failed: true,
        detail: `nova-compute on ${host} stopped reporting (last report dated ${FAILED_REPORT_AGE_MS / 1000} s ago, so Nova reports it down now); its power stays on until freezer-dr fences it`,
      });
    }
    if (verb === 'power' && req.method === 'GET' && action === undefined) {
      return reply(200, { host, power: await fencer.powerStatus(host) });
    }
    if (verb === 'power' && req.method === 'POST' && (action === 'on' || action === 'off')) {
      await (action === 'on' ? fencer.powerOn(host) : fencer.powerOff(host));
      return reply(200, { host, power: await fencer.powerStatus(host) });
    }
    return reply(404, { error: `no simulated route ${req.method} ${path}` });
  } catch (error) {
    return reply(502, { error: (error as Error).message });
  }
}
