// The alert webhook (API Gateway HTTP API or Lambda function URL; the local server
// mounts the same handler at POST /webhook). Thin on purpose: the event becomes an
// IntakeRequest and core/intake decides; middy only guards against the unexpected.
// The front door (method, size, authentication, nonce) is built from the config and the
// state store alone and answers every stranger; the runtime (Nova credentials, drivers)
// is built only for a request that got past it.
import type { Logger } from '@aws-lambda-powertools/logger';
import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { configPath, type FreezerConfig, loadConfigFile } from '../core/config.js';
import { type ExecutionsApi, StepFunctionsExecutions } from '../core/executions.js';
import { withIntakeCloud } from '../core/intake/config.js';
import { FrontDoor } from '../core/intake/front-door.js';
import { Intake } from '../core/intake/intake.js';
import type { NoticeSender } from '../core/intake/refusals.js';
import type { IntakeRequest } from '../core/intake/request.js';
import type { IntakeResponse } from '../core/intake/response.js';
import type { StateStore } from '../core/intake/state-store.js';
import { createLogger } from '../core/logger.js';
import type { Runtime, RuntimeProvider } from '../core/runtime.js';
import { createAlertSources } from '../drivers/alert-source/registry.js';
import { cloudDrivers } from '../drivers/cloud/registry.js';
import { createStateStore } from '../drivers/state/registry.js';
import { functionRuntime } from './lib/function-runtime.js';
import { noticeRelay } from './lib/notice-relay.js';

export interface WebhookDeps {
  runtime: RuntimeProvider;
  executions: () => ExecutionsApi;
  /** The host drain's executions (degraded alerts); without it degraded alerts are recorded only. */
  drains?: () => ExecutionsApi;
  /**
   * The config, for the front door before any runtime exists (a deployed function). When
   * not given, the runtime's (the local server and tests build theirs first).
   */
  config?: () => FreezerConfig;
  /** Notify-once, start-window and nonce state; from config `state` (or the runtime's) unless given. */
  stateStore?: () => StateStore;
  /** How refusal notices leave; the runtime's notifiers unless given. */
  notice?: NoticeSender;
  env?: NodeJS.ProcessEnv;
}

export type WebhookHandler = ((
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>) & {
  /** The intake behind the handler (its counters), built on first use. */
  intake(): Promise<Intake>;
};

export function toIntakeRequest(event: APIGatewayProxyEventV2): IntakeRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
  return {
    method: event.requestContext?.http?.method ?? 'POST',
    headers,
    body: event.body,
    isBase64Encoded: event.isBase64Encoded === true,
  };
}

const toResult = (response: IntakeResponse): APIGatewayProxyStructuredResultV2 => ({
  statusCode: response.status,
  headers: response.headers,
  body: JSON.stringify(response.body),
});

interface Front {
  frontDoor: FrontDoor;
  store: StateStore;
}

/**
 * Retry: senders repeat an alert until they get a 2xx (Alertmanager on every 5xx), and
 * several monitors report the same host. Every repeat of one incident maps to the same
 * execution name (host + the service's last report time), so Step Functions refuses a
 * second start (ExecutionAlreadyExists reads as already handled); refusals are notified
 * once per reason within intake.notifyOnceSeconds. A signed request answered 5xx gives
 * its nonce back, so the sender's retry of it is not taken for a replay.
 */
export function createHandler(deps: WebhookDeps): WebhookHandler {
  const env = deps.env ?? process.env;
  let front: Promise<Front> | null = null;
  const buildFront = async (): Promise<Front> => {
    let config: FreezerConfig;
    let logger: Logger;
    let store: StateStore;
    if (deps.config) {
      config = deps.config();
      logger = createLogger();
      store = deps.stateStore?.() ?? (await createStateStore(config.state, { logger, simulated: null, env }));
    } else {
      const rt = await deps.runtime();
      ({ config, logger } = rt);
      store = deps.stateStore?.() ?? rt.state;
    }
    return { frontDoor: new FrontDoor({ config: config.intake, store, env, logger }), store };
  };
  // Built once per container; a failed build (an unreadable config) is tried again next time.
  const frontDoor = (): Promise<Front> => {
    front ??= buildFront().catch((error) => {
      front = null;
      throw error;
    });
    return front;
  };

  let built: { rt: Runtime; intake: Intake } | null = null;
  const intake = async (): Promise<Intake> => {
    const { frontDoor: door, store } = await frontDoor();
    const rt = await deps.runtime();
    if (built?.rt !== rt) {
      built = {
        rt,
        intake: new Intake({
          runtime: rt,
          executions: deps.executions(),
          sources: createAlertSources(rt.config.alertSources, rt.config.drain.triggers),
          ...(deps.drains ? { drains: deps.drains() } : {}),
          store,
          frontDoor: door,
          ...(deps.notice ? { notice: deps.notice } : {}),
          env,
        }),
      };
    }
    return built.intake;
  };

  const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(
      httpErrorHandler({
        // Only bugs and misconfiguration get here; the message, never the event, is logged.
        logger: (error: unknown) =>
          console.error(
            JSON.stringify({
              level: 'ERROR',
              message: 'webhook failed',
              error: String((error as Error)?.message ?? error),
            }),
          ),
        fallbackMessage: JSON.stringify({ error: 'internal error' }),
      }),
    )
    .handler(async (event, context) => {
      const request = toIntakeRequest(event);
      const requestId = context?.awsRequestId ?? null;
      const door = (await frontDoor()).frontDoor;
      const admitted = await door.admit(request, requestId);
      if ('status' in admitted) return toResult(admitted);
      try {
        return toResult(await (await intake()).handleAdmitted(request, admitted, requestId));
      } catch (error) {
        await door.release(admitted); // answered 500: the sender's retry is not a replay
        throw error;
      }
    });
  return Object.assign(handler as unknown as WebhookHandler, { intake });
}

/** Nova's services for the gates, with the intake's own credentials; no notifier: refusal notices go to the notify function. */
export const webhookRuntime = (): RuntimeProvider =>
  functionRuntime({ cloud: cloudDrivers }, withIntakeCloud);

export const defaultWebhookDeps: WebhookDeps = {
  config: () => loadConfigFile(configPath()),
  runtime: webhookRuntime(),
  executions: () => StepFunctionsExecutions.fromEnv(),
  // serverless.yml sets DRAIN_STATE_MACHINE_ARN: degraded alerts start drains (recorded only without it).
  ...(process.env.DRAIN_STATE_MACHINE_ARN
    ? {
        drains: () =>
          StepFunctionsExecutions.fromEnv({
            ...process.env,
            STATE_MACHINE_ARN: process.env.DRAIN_STATE_MACHINE_ARN,
          }),
      }
    : {}),
  notice: noticeRelay(),
};

export const handler = createHandler(defaultWebhookDeps);
