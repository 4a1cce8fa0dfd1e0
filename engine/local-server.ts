// What `freezer-dr serve` listens with: one HTTP server on 127.0.0.1 carrying the alert
// webhook (POST /webhook, functions/webhook.ts unchanged), the Step Functions endpoint
// (POST / with X-Amz-Target), the executions page (GET /executions) and, with the
// simulated cloud only, the /simulated/ routes. The webhook starts recoveries through
// @aws-sdk/client-sfn against this same server, exactly as it would against AWS. Every
// route but the webhook refuses requests addressed to another host name or coming from
// another origin (engine/request-guard.ts); starting or stopping a recovery needs the token.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SFNClient } from '@aws-sdk/client-sfn';
import { StepFunctionsExecutions } from '../core/executions.js';
import { instanceNames, type NamedInstance } from '../core/instance-names.js';
import { intakeConfigSchema } from '../core/intake/config.js';
import { bodyTooLarge } from '../core/intake/request.js';
import { startMonitorLoop } from '../core/monitor.js';
import { recoveryTimeline } from '../core/recovery-timeline.js';
import { createMonitors } from '../drivers/monitor/registry.js';
import { createHandler } from '../functions/webhook.js';
import { topLevelStates } from './definition.js';
import { inputObject, renderExecution, renderExecutionList, renderNotFound } from './executions-page.js';
import { toHttpApiEvent, writeHttpApiResult } from './http-event.js';
import { lambdaContext } from './local-engine.js';
import { executionArn, type LocalExecutions } from './local-executions.js';
import { foreignRequest, type RequestGuard, serverNames } from './request-guard.js';
import type { LocalRuntime } from './runtime.js';
import { SfnError } from './sfn-errors.js';
import { handleSfnRequest, isSfnRequest, replySfnError } from './sfn-server.js';
import { handleSimulated, SIMULATED_PREFIX } from './simulated-endpoints.js';

export interface LocalServerOptions {
  host: string;
  port: number;
  runtime: LocalRuntime;
  executions: LocalExecutions;
  /** Environment for the webhook (carries the local bearer token). */
  webhookEnv: NodeJS.ProcessEnv;
  /**
   * The token StartExecution/StopExecution must carry (engine/local-api-token.ts), and
   * where it is kept; by default a random one only this server's own webhook knows.
   */
  apiToken?: { token: string; origin?: string };
  /** A request whose body has not arrived in full by then is answered 408 and closed. */
  bodyTimeoutMs?: number;
  /** Poll freezer-dr's own monitors (config `monitors`) into the webhook's intake; default true. */
  monitors?: boolean;
}

export interface LocalServer {
  url: string;
  server: Server;
  /** What mutating Step Functions calls must carry. */
  apiToken: string;
  close(): Promise<void>;
}

/** A sender that stalls mid-body (or claims more than it sends) does not hold a connection longer. */
const BODY_TIMEOUT_MS = 10_000;
const TOP_LEVEL_STATES = topLevelStates();

/**
 * The webhook body, or null when it is over intake.maxBodyBytes: refused on its
 * Content-Length, or once that many bytes have arrived; the rest is never read.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length']) > limit) return resolve(null);
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off('data', onData);
      req.pause();
      resolve(null);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function html(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
  });
  res.end(body);
}

async function page(
  executions: LocalExecutions,
  path: string,
  namesOf: (instances: readonly NamedInstance[]) => Promise<Map<string, string>>,
): Promise<{ status: number; body: string }> {
  if (path === '/executions' || path === '/executions/') {
    // Recoveries and drains, newest first.
    const items = [executions.stateMachineArn, executions.drainStateMachineArn]
      .flatMap((stateMachineArn) => executions.list({ stateMachineArn, maxResults: 200 }).executions ?? [])
      .sort((a, b) => (b.startDate?.getTime() ?? 0) - (a.startDate?.getTime() ?? 0))
      .slice(0, 200);
    const listed = items.map((item) => {
      const { host } = inputObject(executions.describe({ executionArn: item.executionArn ?? '' }).input);
      return { ...item, host: typeof host === 'string' ? host : null };
    });
    return { status: 200, body: renderExecutionList(listed) };
  }
  const name = decodeURIComponent(path.slice('/executions/'.length));
  try {
    let described: ReturnType<LocalExecutions['describe']>;
    try {
      described = executions.describe({ executionArn: executionArn(name) });
    } catch (error) {
      if (!(error instanceof SfnError)) throw error;
      described = executions.describe({ executionArn: executionArn(name, 'drain') });
    }
    const events = executions.fullHistory(name);
    const timeline = recoveryTimeline(events, TOP_LEVEL_STATES);
    const names = await namesOf(timeline.instances);
    return { status: 200, body: renderExecution(described, timeline, names) };
  } catch (error) {
    if (error instanceof SfnError)
      return { status: 404, body: renderNotFound(`No execution named ${name}.`) };
    throw error;
  }
}

export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const { executions, runtime } = options;
  const access = options.apiToken ?? { token: randomBytes(24).toString('hex') };
  if (!access.token) throw new Error('startLocalServer: apiToken.token is empty');
  let base = '';
  let guard: RequestGuard | null = null;
  const client = () =>
    new SFNClient({
      endpoint: base,
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local', sessionToken: access.token },
    });
  let sfn: SFNClient | null = null;
  const webhook = createHandler({
    runtime: async () => runtime,
    executions: () => {
      sfn ??= client();
      return new StepFunctionsExecutions(sfn, executions.stateMachineArn);
    },
    drains: () => {
      sfn ??= client();
      return new StepFunctionsExecutions(sfn, executions.drainStateMachineArn);
    },
    env: options.webhookEnv,
  });
  let webhookRequests = 0;
  const namesOf = instanceNames(runtime.cloud);
  const { maxBodyBytes } = intakeConfigSchema.parse(runtime.config.intake ?? {});
  const bodyTimeoutMs = options.bodyTimeoutMs ?? BODY_TIMEOUT_MS;
  let monitorLoop: { stop(): void } | null = null;

  // requestTimeout bounds the time to receive a whole request (then 408 and close), not
  // the time to answer it; the check runs every connectionsCheckingInterval.
  const serverOptions = {
    requestTimeout: bodyTimeoutMs,
    connectionsCheckingInterval: Math.min(1000, Math.max(10, Math.floor(bodyTimeoutMs / 4))),
  };
  const server = createServer(serverOptions, async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      const foreign = url.pathname === '/webhook' || !guard ? null : foreignRequest(req, guard);
      if (foreign !== null) {
        req.resume();
        if (isSfnRequest(req)) return replySfnError(res, new SfnError('AccessDeniedException', foreign, 403));
        res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' });
        return res.end(`${foreign}\n`);
      }
      if (isSfnRequest(req)) return await handleSfnRequest(executions, req, res, access);
      if (url.pathname === '/webhook') {
        // Any method goes to the webhook, whose intake answers every refusal (405 included).
        const body = await readBody(req, maxBodyBytes);
        if (!body) {
          const refusal = JSON.stringify({ error: bodyTooLarge(maxBodyBytes).error });
          res.writeHead(413, {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(refusal),
            connection: 'close',
          });
          return res.end(refusal);
        }
        webhookRequests += 1;
        const event = toHttpApiEvent(req, body, 'POST /webhook');
        const result = await webhook(event, lambdaContext('webhook', `webhook-${webhookRequests}`));
        return writeHttpApiResult(res, result);
      }
      if (url.pathname.startsWith(SIMULATED_PREFIX) && runtime.simulated) {
        return await handleSimulated(runtime.simulated, req, res, url.pathname);
      }
      if (req.method === 'GET' && url.pathname === '/') {
        res.writeHead(302, { location: '/executions' });
        return res.end();
      }
      if (req.method === 'GET' && url.pathname === '/health') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ ok: true, running: executions.active().length }));
      }
      if (req.method === 'GET' && url.pathname.startsWith('/executions')) {
        const { status, body } = await page(executions, url.pathname, namesOf);
        return html(res, status, body);
      }
      html(res, 404, renderNotFound(`Nothing at ${url.pathname}.`));
    } catch (error) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`internal error: ${(error as Error).message}`);
    }
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  base = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;
  guard = { names: serverNames(options.host), port: address.port };
  // The same intake as the webhook: an alert and the poll for one incident share its state.
  if (options.monitors !== false && runtime.config.monitors.length) {
    monitorLoop = startMonitorLoop(runtime, webhook.intake, createMonitors(runtime.config.monitors));
  }
  return {
    url: base,
    server,
    apiToken: access.token,
    async close() {
      monitorLoop?.stop();
      sfn?.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
