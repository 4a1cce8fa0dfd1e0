// Test rig for the alert webhook: the SIMULATED cloud on 127.0.0.1, a runtime pointing at
// it, the in-memory Step Functions behind the real StepFunctionsExecutions, and the real
// handler from functions/webhook.ts, called with API Gateway v2 events.

import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { parseConfig } from '../../core/config.js';
import { signBody } from '../../core/intake/auth.js';
import type { StateStore } from '../../core/intake/state-store.js';
import { type SimulatedCloud, startSimulatedCloud } from '../../drivers/cloud/simulated/server.js';
import { lambdaContext as localLambdaContext } from '../../engine/local-engine.js';
import { createRuntime, type LocalRuntime } from '../../engine/runtime.js';
import { createHandler, type WebhookHandler } from '../../functions/webhook.js';
import { captureLogger } from './capture-logger.js';
import { type FakeStepFunctions, fakeExecutions } from './fake-sfn.js';
import { MemoryNotifier } from './memory-notifier.js';

export const TOKEN = 'test-bearer-token-0123456789abcdef';
export const HMAC_SECRET = 'test-hmac-secret-fedcba9876543210';

export interface RigOptions {
  hosts?: number;
  intake?: Record<string, unknown>;
  alertSources?: Record<string, unknown>[];
  recovery?: Record<string, unknown>;
  /** The drain section (its triggers and maxRunning). */
  drain?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  sfnLatencyMs?: number;
  /** Drop log lines instead of keeping them (storms, benchmarks). */
  discardLogs?: boolean;
  /** Use this logger instead of the in-memory one (lines then stays empty). */
  logger?: Logger;
  /** The runtime's state store (default: in memory). */
  stateStore?: StateStore;
}

export interface PostOptions {
  contentType?: string | null;
  auth?: 'bearer' | 'hmac' | 'none';
  headers?: Record<string, string>;
  /** Send the body base64-encoded, as a function URL does for binary content. */
  base64?: boolean;
  method?: string;
}

export interface Posted {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, unknown>;
}

export interface IntakeRig {
  sim: SimulatedCloud;
  rt: LocalRuntime;
  sfn: FakeStepFunctions;
  /** The host drain's state machine (degraded alerts). */
  drainSfn: FakeStepFunctions;
  notifier: MemoryNotifier;
  handler: WebhookHandler;
  env: NodeJS.ProcessEnv;
  lines: string[];
  hosts: string[];
  post(body: unknown, options?: PostOptions): Promise<Posted>;
  decisions(): Record<string, unknown>[];
  close(): Promise<void>;
}

export const hostName = (i: number) => `compute-${i}`;

export function webhookEvent(body: string | Buffer, options: PostOptions = {}): APIGatewayProxyEventV2 {
  const raw = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const headers: Record<string, string> = {};
  const contentType = options.contentType === undefined ? 'application/json' : options.contentType;
  if (contentType !== null) headers['content-type'] = contentType;
  const auth = options.auth ?? 'bearer';
  if (auth === 'bearer') headers.authorization = `Bearer ${TOKEN}`;
  if (auth === 'hmac') {
    const ts = Math.floor(Date.now() / 1000);
    const nonce = randomUUID();
    headers['x-freezer-dr-timestamp'] = String(ts);
    headers['x-freezer-dr-nonce'] = nonce;
    headers['x-freezer-dr-signature'] = signBody(HMAC_SECRET, ts, raw, nonce);
  }
  Object.assign(headers, options.headers);
  const base64 = options.base64 ?? Buffer.isBuffer(body);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/webhook',
    rawQueryString: '',
    headers,
    isBase64Encoded: base64,
    body: base64 ? raw.toString('base64') : raw.toString('utf8'),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: '127.0.0.1',
      domainPrefix: '127',
      http: {
        method: options.method ?? 'POST',
        path: '/webhook',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'test',
      },
      requestId: 'test',
      routeKey: '$default',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
  };
}

/** The engine's own Lambda context (one double for every test), with a request id tests can look for. */
export const lambdaContext: Context = {
  ...localLambdaContext('webhook', 'test'),
  awsRequestId: 'test-request',
};

export async function startIntakeRig(options: RigOptions = {}): Promise<IntakeRig> {
  const hosts = Array.from({ length: options.hosts ?? 6 }, (_, i) => hostName(i + 1));
  const sim = await startSimulatedCloud({ hosts, evacuateMs: 50 });
  const config = parseConfig({
    cloud: { driver: 'simulated' },
    fencer: { driver: 'simulated' },
    notifiers: [{ driver: 'log' }],
    alertSources: options.alertSources ?? [],
    recovery: options.recovery ?? {},
    ...(options.drain ? { drain: options.drain } : {}),
    intake: {
      auth: { bearer: { env: 'TEST_WEBHOOK_TOKEN' }, hmac: { env: 'TEST_WEBHOOK_HMAC' } },
      snapshotCacheMs: 0,
      ...options.intake,
    },
  });
  const memory = captureLogger(!options.discardLogs && !options.logger);
  const { lines } = memory;
  const logger = options.logger ?? memory.logger;
  const notifier = new MemoryNotifier();
  const rt = await createRuntime(config, {
    simulated: sim,
    logger,
    notifiers: [notifier],
    ...(options.stateStore ? { state: options.stateStore } : {}),
  });
  const { sfn, api } = fakeExecutions(options.sfnLatencyMs ?? 0);
  const drains = fakeExecutions(options.sfnLatencyMs ?? 0);
  const env: NodeJS.ProcessEnv = {
    TEST_WEBHOOK_TOKEN: TOKEN,
    TEST_WEBHOOK_HMAC: HMAC_SECRET,
    ...options.env,
  };
  const handler = createHandler({
    runtime: async () => rt,
    executions: () => api,
    drains: () => drains.api,
    env,
  });
  const post = async (body: unknown, postOptions: PostOptions = {}): Promise<Posted> => {
    const raw = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    const result = await handler(webhookEvent(raw, postOptions), lambdaContext);
    return {
      status: result.statusCode ?? 0,
      body: result.body ? (JSON.parse(result.body) as Record<string, unknown>) : {},
      headers: (result.headers ?? {}) as Record<string, unknown>,
    };
  };
  return {
    sim,
    rt,
    sfn,
    drainSfn: drains.sfn,
    notifier,
    handler,
    env,
    lines,
    hosts,
    post,
    decisions: () =>
      lines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((l) => l.message === 'alert decision'),
    close: async () => {
      sim.state.close();
      await sim.close();
    },
  };
}

/** A form body as Nagios' curl --data-urlencode sends it. */
export const form = (fields: Record<string, string | number>) =>
  new URLSearchParams(Object.entries(fields).map(([k, v]): [string, string] => [k, String(v)])).toString();

export const FORM = 'application/x-www-form-urlencoded';
