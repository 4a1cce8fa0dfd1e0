// `serve`'s Step Functions endpoint and page against a web page the operator opens: a
// request naming another host (DNS rebinding) or from another origin is refused, and
// starting or stopping a recovery needs the local token, which the CLI and the project's
// SFN clients send as their session token. Reads stay open on loopback.
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  RedriveExecutionCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sfnTarget } from '../../cli/sfn-target.js';
import { parseConfig } from '../../core/config.js';
import { ExecutionStore } from '../../engine/execution-store.js';
import { localApiToken } from '../../engine/local-api-token.js';
import { stateMachineArn } from '../../engine/local-engine.js';
import { executionArn, LocalExecutions } from '../../engine/local-executions.js';
import { type LocalServer, startLocalServer } from '../../engine/local-server.js';
import { type Harness, recoveryInput, startHarness } from '../support/harness.js';

let h: Harness;
let dir: string;
let store: ExecutionStore;
let executions: LocalExecutions;
let server: LocalServer;
let port: number;
const clients: SFNClient[] = [];
const config = () =>
  parseConfig({ cloud: { driver: 'simulated' }, fencer: { driver: 'simulated' }, local: { dataDir: dir } });

beforeEach(async () => {
  h = await startHarness();
  dir = mkdtempSync(join(tmpdir(), 'freezer-dr-api-auth-'));
  store = new ExecutionStore(dir);
  executions = new LocalExecutions({ store, runtime: async () => h.rt, retryIntervalMs: 10, waitMs: 20 });
  h.sim.state.addServer({ host: 'compute-1' });
  h.sim.state.killCompute('compute-1', { reportedAgoMs: 120_000 });
  // The token `serve` would use: the webhook's, made in the data directory on first start.
  const token = await localApiToken(config(), dir, {});
  server = await startLocalServer({
    host: '127.0.0.1',
    monitors: false,
    port: 0,
    runtime: h.rt,
    executions,
    webhookEnv: {},
    apiToken: token ?? undefined,
  });
  port = Number(new URL(server.url).port);
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await server.close();
  await executions.idle();
  store.close();
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

function client(sessionToken?: string): SFNClient {
  const made = new SFNClient({
    endpoint: server.url,
    region: 'local',
    credentials: {
      accessKeyId: 'local',
      secretAccessKey: 'local',
      ...(sessionToken ? { sessionToken } : {}),
    },
    maxAttempts: 1,
  });
  clients.push(made);
  return made;
}

const start = (sfn: SFNClient, name: string) =>
  sfn.send(
    new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(recoveryInput('compute-1')) }),
  );

/** One raw request, headers as given (Host included). */
function raw(
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: body === undefined ? 'GET' : 'POST', headers },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const sfnHeaders = (operation: string, extra: Record<string, string> = {}) => ({
  host: `127.0.0.1:${port}`,
  'content-type': 'application/x-amz-json-1.0',
  'x-amz-target': `AWSStepFunctions.${operation}`,
  ...extra,
});

describe('the local token', () => {
  it('is required to start, stop or re-drive: without it, or with another, nothing starts', async () => {
    for (const sfn of [client(), client('not-the-token-at-all-0123456789')]) {
      await expect(start(sfn, 'no-token')).rejects.toMatchObject({
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 403 },
        message: expect.stringContaining(join(dir, 'webhook-token')),
      });
      await expect(
        sfn.send(new StopExecutionCommand({ executionArn: executionArn('no-token') })),
      ).rejects.toMatchObject({ name: 'AccessDeniedException' });
      await expect(
        sfn.send(new RedriveExecutionCommand({ executionArn: executionArn('no-token') })),
      ).rejects.toMatchObject({ name: 'AccessDeniedException' });
    }
    expect(store.list({ limit: 10 })).toEqual([]);
    expect(h.sim.state.counters.powerOffCalls.size).toBe(0);
  });

  it('lets a client carrying it (as its session token) start and stop executions', async () => {
    const sfn = client(server.apiToken);
    const started = await start(sfn, 'with-token');
    expect(started.executionArn).toBe(executionArn('with-token'));
    await executions.idle();
    const stopped = await sfn.send(new StopExecutionCommand({ executionArn: executionArn('with-token') }));
    expect(stopped.stopDate).toBeInstanceOf(Date);
    // Past the token, what is not served locally is said so.
    await expect(
      sfn.send(new RedriveExecutionCommand({ executionArn: executionArn('with-token') })),
    ).rejects.toMatchObject({ name: 'UnknownOperationException' });
  });

  it('also accepts it as Authorization: Bearer (curl)', async () => {
    const body = JSON.stringify({
      stateMachineArn,
      name: 'bearer',
      input: JSON.stringify(recoveryInput('compute-1')),
    });
    const refused = await raw('/', sfnHeaders('StartExecution'), body);
    expect(refused.status).toBe(403);
    const accepted = await raw(
      '/',
      sfnHeaders('StartExecution', { authorization: `Bearer ${server.apiToken}` }),
      body,
    );
    expect(accepted.status).toBe(200);
    expect(JSON.parse(accepted.body).executionArn).toBe(executionArn('bearer'));
  });

  it('is not needed to read', async () => {
    await start(client(server.apiToken), 'readable');
    await executions.idle();
    const sfn = client();
    const arn = executionArn('readable');
    expect((await sfn.send(new ListExecutionsCommand({ stateMachineArn }))).executions).toHaveLength(1);
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn: arn }))).status).toBe('SUCCEEDED');
    expect(
      (await sfn.send(new GetExecutionHistoryCommand({ executionArn: arn }))).events?.length,
    ).toBeGreaterThan(0);
  });

  it("is what the CLI's client sends, read from the data directory; FREEZER_DR_API_TOKEN overrides it", async () => {
    const target = sfnTarget(config(), { SFN_ENDPOINT: server.url });
    clients.push(target.client);
    await start(target.client, 'from-the-cli');
    const wrong = sfnTarget(config(), {
      SFN_ENDPOINT: server.url,
      FREEZER_DR_API_TOKEN: 'not-the-token-at-all-0123456789',
    });
    clients.push(wrong.client);
    await expect(start(wrong.client, 'wrong-token')).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(store.list({ limit: 10 }).map((r) => r.name)).toEqual(['from-the-cli']);
  });
});

describe('requests from a web page', () => {
  it('refuses a request naming another host (DNS rebinding), on the API and the page, token or not', async () => {
    const rebound = `attacker.example:${port}`;
    const body = JSON.stringify({ stateMachineArn, name: 'rebound', input: '{}' });
    const api = await raw(
      '/',
      sfnHeaders('StartExecution', { host: rebound, authorization: `Bearer ${server.apiToken}` }),
      body,
    );
    expect(api.status).toBe(403);
    expect(JSON.parse(api.body)).toMatchObject({ __type: expect.stringMatching(/AccessDeniedException$/) });
    expect(JSON.parse(api.body).message).toMatch(/DNS rebinding/);
    expect((await raw('/', sfnHeaders('ListExecutions', { host: rebound }), '{}')).status).toBe(403);
    expect((await raw('/executions', { host: rebound })).status).toBe(403);
    expect((await raw('/executions', { host: '127.0.0.1:1' })).status).toBe(403); // another port
    expect(store.list({ limit: 10 })).toEqual([]);
  });

  it('answers the names this server has: 127.0.0.1, localhost, [::1]', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
      expect((await raw('/executions', { host })).status, host).toBe(200);
    }
  });

  it('refuses another origin, and takes its own', async () => {
    const list = JSON.stringify({ stateMachineArn });
    const foreign = await raw('/', sfnHeaders('ListExecutions', { origin: 'http://attacker.example' }), list);
    expect(foreign.status).toBe(403);
    expect(JSON.parse(foreign.body).message).toMatch(/cross-origin/);
    expect((await raw('/executions', { host: `127.0.0.1:${port}`, origin: 'null' })).status).toBe(403);
    const own = await raw('/', sfnHeaders('ListExecutions', { origin: `http://127.0.0.1:${port}` }), list);
    expect(own.status).toBe(200);
  });
});
