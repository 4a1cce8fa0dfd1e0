// Which Step Functions the CLI reads: AWS when STATE_MACHINE_ARN is set without an
// endpoint, otherwise the endpoint of a running `freezer-dr serve` (SFN_ENDPOINT, else the
// configured local address). One @aws-sdk/client-sfn client either way; against `serve`
// it carries the local token as its session token, which starting or stopping needs.
import { SFNClient } from '@aws-sdk/client-sfn';
import type { FreezerConfig } from '../core/config.js';
import type { WorkflowKey } from '../engine/definition.js';
import { localApiToken } from '../engine/local-api-token.js';
import { localConfig, localUrl } from '../engine/local-config.js';
import { stateMachineArnOf } from '../engine/local-engine.js';

export interface SfnTarget {
  client: SFNClient;
  stateMachineArn: string;
  /** For messages: the endpoint, or "AWS". */
  where: string;
  local: boolean;
  executionArn(nameOrArn: string): string;
}

/** `workflow` drain: its state machine (DRAIN_STATE_MACHINE_ARN on AWS, beside STATE_MACHINE_ARN). */
export function sfnTarget(
  config: FreezerConfig,
  env: NodeJS.ProcessEnv = process.env,
  workflow: WorkflowKey = 'recovery',
): SfnTarget {
  const onAws = Boolean(env.STATE_MACHINE_ARN) && !env.SFN_ENDPOINT;
  const stateMachineArn =
    (workflow === 'drain' ? env.DRAIN_STATE_MACHINE_ARN : env.STATE_MACHINE_ARN) ??
    stateMachineArnOf(workflow);
  const local = localConfig(config);
  const endpoint = onAws ? null : (env.SFN_ENDPOINT ?? localUrl(local, env));
  let token: Promise<string | undefined> | null = null;
  const client = endpoint
    ? new SFNClient({
        endpoint,
        region: env.AWS_REGION ?? 'local',
        // Read once, when the first call is made (a read-only command needs none).
        credentials: async () => {
          token ??= localApiToken(config, local.dataDir, env, { create: false }).then((t) => t?.token);
          const sessionToken = await token;
          return {
            accessKeyId: 'local',
            secretAccessKey: 'local',
            ...(sessionToken ? { sessionToken } : {}),
          };
        },
        maxAttempts: 1,
      })
    : new SFNClient({});
  return {
    client,
    stateMachineArn,
    where: endpoint ?? `AWS Step Functions (${stateMachineArn})`,
    local: endpoint !== null,
    executionArn: (nameOrArn) =>
      nameOrArn.startsWith('arn:')
        ? nameOrArn
        : `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${nameOrArn}`,
  };
}
