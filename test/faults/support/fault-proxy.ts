// An HTTP proxy on 127.0.0.1 that injects network faults between freezer-dr and a service
// (Keystone + Nova of the simulated cloud, or the bastion relay): a request that hangs,
// one whose answer is lost after the service acted on it, a delay, a made-up answer, or
// garbage. Answers are passed through with the upstream's address rewritten to the
// proxy's, so URLs from the Keystone catalog and pagination links keep coming here.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FaultAction =
  /** Never forwarded, never answered: the client times out. */
  | { kind: 'hang' }
  /** Forwarded and acted on; the answer never reaches the client (its connection is cut). */
  | { kind: 'drop-answer' }
  /** Forwarded after this delay. */
  | { kind: 'delay'; ms: number }
  /** Answered here with this status, JSON body and extra headers; the service never sees the request. */
  | { kind: 'answer'; status: number; body: unknown; headers?: Record<string, string> }
  /** Answered 200 with a body that is not what the client expects. */
  | { kind: 'garbage'; body: string };

export interface FaultRule {
  method?: string;
  path: RegExp;
  /** Only requests whose body matches (e.g. /"evacuate"/ among server actions). */
  body?: RegExp;
  /** How many matching requests get the fault; Infinity for all. */
  times: number;
  action: FaultAction;
}

export interface FaultProxy {
  url: string;
  /** Requests that met a fault, by rule. */
  hits: { method: string; path: string; fault: FaultAction['kind'] }[];
  add(rule: FaultRule): void;
  clear(): void;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'host']);

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const rules: FaultRule[] = [];
  const hits: FaultProxy['hits'] = [];
  let self = '';
  const server: Server = createServer(async (req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const body = await readAll(req);
    const text = body.toString('utf8');
    const rule = rules.find(
      (r) =>
        r.times > 0 &&
        (!r.method || r.method === method) &&
        r.path.test(path) &&
        (!r.body || r.body.test(text)),
    );
    const action = rule?.action;
    if (rule && action) {
      rule.times -= 1;
      hits.push({ method, path, fault: action.kind });
    }
    if (action?.kind === 'hang') return; // the socket is closed by the client's timeout, or by close()
    if (action?.kind === 'answer') {
      res.writeHead(action.status, { 'content-type': 'application/json', ...action.headers });
      return res.end(JSON.stringify(action.body));
    }
    if (action?.kind === 'garbage') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end(action.body);
    }
    if (action?.kind === 'delay') await new Promise((resolve) => setTimeout(resolve, action.ms));
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (!HOP_BY_HOP.has(name) && typeof value === 'string') headers[name] = value;
    }
    let answer: Response;
    try {
      answer = await fetch(`${upstream}${path}`, {
        method,
        headers,
        ...(body.length ? { body } : {}),
      });
    } catch {
      res.destroy();
      return;
    }
    const answered = (await answer.text()).replaceAll(upstream, self);
    if (action?.kind === 'drop-answer') {
      res.destroy();
      return;
    }
    const out: Record<string, string> = {};
    answer.headers.forEach((value, name) => {
      if (!HOP_BY_HOP.has(name) && name !== 'content-encoding') out[name] = value;
    });
    res.writeHead(answer.status, out);
    res.end(answered);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  self = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: self,
    hits,
    add: (rule) => rules.push(rule),
    clear: () => rules.splice(0),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
