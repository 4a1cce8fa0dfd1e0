// The alert webhook (API Gateway HTTP API or Lambda function URL; the local server
// mounts the same handler at POST /webhook). Thin on purpose: the event becomes an
// IntakeRequest and core/intake decides; middy only guards against the unexpected.
import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { type ExecutionsApi, StepFunctionsExecutions } from '../core/executions.js';
import { functionRuntime } from '../core/function-runtime.js';
import { Intake } from '../core/intake/intake.js';
import type { IntakeRequest } from '../core/intake/request.js';
import type { StateStore } from '../core/intake/state-store.js';
import type { Runtime, RuntimeProvider } from '../core/runtime.js';
import { cloudDrivers } from '../drivers/cloud/registry.js';
import { notifierDrivers } from '../drivers/notifier/registry.js';

export interface WebhookDeps {
  runtime: RuntimeProvider;
  executions: () => ExecutionsApi;
  /** Notify-once and start-window state; the runtime's (in memory, per process) unless given. */
  stateStore?: () => StateStore;
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

/**
 * Retry: senders repeat an alert until they get a 2xx (Alertmanager on every 5xx), and
 * several monitors report the same host. Every repeat of one incident maps to the same
 * execution name (host + the service's last report time), so Step Functions refuses a
 * second start (ExecutionAlreadyExists reads as already handled); refusals are notified
 * once per reason within intake.notifyOnceSeconds.
 */
export function createHandler(deps: WebhookDeps): WebhookHandler {
  let built: { rt: Runtime; intake: Intake } | null = null;
  let store: StateStore | undefined;
  const intake = async (): Promise<Intake> => {
    const rt = await deps.runtime();
    if (built?.rt !== rt) {
      store ??= deps.stateStore?.();
      const executions = deps.executions();
      built = {
        rt,
        intake: new Intake({
          runtime: rt,
          executions,
          ...(store ? { store } : {}),
          ...(deps.env ? { env: deps.env } : {}),
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
      const response = await (await intake()).handle(toIntakeRequest(event), context?.awsRequestId ?? null);
      return { statusCode: response.status, headers: response.headers, body: JSON.stringify(response.body) };
    });
  return Object.assign(handler as unknown as WebhookHandler, { intake });
}

export const defaultWebhookDeps: WebhookDeps = {
  // Nova's services for the mass-failure gates; notifiers for refusal notices.
  runtime: functionRuntime({ cloud: cloudDrivers, notifiers: notifierDrivers }),
  executions: () => StepFunctionsExecutions.fromEnv(),
};

export const handler = createHandler(defaultWebhookDeps);
