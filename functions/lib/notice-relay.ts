// Refusal notices from the intake (webhook, monitor) on AWS: handed to the notify function,
// which holds the notifier secrets (SMTP, chat URLs), as an asynchronous invocation. The
// intake's roles then need lambda:InvokeFunction on that one function instead of every
// notifier's secret, and a slow SMTP server never holds up the answer to a monitor.
// Lambda retries a failed asynchronous invocation twice; an invocation Lambda refuses
// counts as not delivered, so the next refusal tries again (core/intake/refusals.ts).
import type { NoticeSender } from '../../core/intake/refusals.js';

/** serverless.yml sets it on the functions that run the intake. */
export const NOTIFY_FUNCTION_ENV = 'NOTIFY_FUNCTION_NAME';

type Invoke = (functionName: string, payload: string) => Promise<number | undefined>;

// Loaded on first notice: most invocations refuse nothing and never need the client.
let client: Promise<Invoke> | null = null;
const lambdaInvoke: Invoke = async (functionName, payload) => {
  client ??= import('@aws-sdk/client-lambda').then(({ LambdaClient, InvokeCommand }) => {
    const lambda = new LambdaClient({});
    return async (name: string, body: string) =>
      (
        await lambda.send(
          new InvokeCommand({ FunctionName: name, InvocationType: 'Event', Payload: Buffer.from(body) }),
        )
      ).StatusCode;
  });
  return (await client)(functionName, payload);
};

export function noticeRelay(
  env: NodeJS.ProcessEnv = process.env,
  invoke: Invoke = lambdaInvoke,
): NoticeSender {
  return async (rt, notice) => {
    const target = env[NOTIFY_FUNCTION_ENV];
    try {
      if (!target) throw new Error(`${NOTIFY_FUNCTION_ENV} is not set`);
      const status = await invoke(target, JSON.stringify(notice));
      if (status !== 202) throw new Error(`Lambda answered ${status ?? 'nothing'}`);
      rt.logger.info('refusal notice handed to the notify function', { kind: notice.kind, target });
      return { delivered: 1, failed: 0 };
    } catch (error) {
      rt.logger.error('refusal notice not handed over', {
        kind: notice.kind,
        error: (error as Error).message,
      });
      return { delivered: 0, failed: 1 };
    }
  };
}
