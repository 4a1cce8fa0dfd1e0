// The SIMULATED BMCs of a simulated cloud living in the test process, served over HTTP on
// 127.0.0.1 to an engine in another process (test/support/engine-child.ts), with every
// power call and every report that process sends recorded here: the BMCs and the record
// outlive the engine process when a test kills it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PowerState, RecoveryReport } from '../../core/ports.js';
import type { SimulatedCloud } from '../../drivers/cloud/simulated/server.js';
import { SimulatedFencer } from '../../drivers/fencer/simulated.js';

export interface PowerCall {
  host: string;
  call: 'status' | 'off' | 'on';
  /** The state a status read returned; null for actions and failures. */
  state: PowerState | null;
  error: string | null;
  at: number;
}

export interface BmcBridge {
  url: string;
  calls: PowerCall[];
  reports: RecoveryReport[];
  close(): Promise<void>;
}

export async function startBmcBridge(sim: SimulatedCloud): Promise<BmcBridge> {
  const fencer = new SimulatedFencer(sim.state);
  const calls: PowerCall[] = [];
  const reports: RecoveryReport[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const [, kind, host = '', action] = (req.url ?? '').split('/').map(decodeURIComponent);
    if (req.method === 'POST' && kind === 'report') {
      reports.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as RecoveryReport);
      return reply(200, {});
    }
    if (kind !== 'power' || !sim.state.hosts.has(host)) return reply(404, { error: `no BMC for ${host}` });
    const call = req.method === 'GET' ? 'status' : action === 'off' || action === 'on' ? action : null;
    if (!call) return reply(404, { error: `no route ${req.method} ${req.url}` });
    try {
      if (call === 'off') await fencer.powerOff(host);
      if (call === 'on') await fencer.powerOn(host);
      const state = call === 'status' ? await fencer.powerStatus(host) : null;
      calls.push({ host, call, state, error: null, at: Date.now() });
      return reply(200, { state });
    } catch (error) {
      calls.push({ host, call, state: null, error: (error as Error).message, at: Date.now() });
      return reply(502, { error: (error as Error).message });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    reports,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
