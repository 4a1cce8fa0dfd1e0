// Which Step Functions the CLI reads: AWS when STATE_MACHINE_ARN is set without an
// endpoint, otherwise the endpoint of a running `freezer-dr serve` (SFN_ENDPOINT, else the
// configured local address). One @aws-sdk/client-sfn client either way.
import { SFNClient } from '@aws-sdk/client-sfn';
import type { FreezerConfig } from '../core/config.js';
import { localConfig, localUrl } from '../engine/local-config.js';
import { stateMachineArn as localStateMachineArn } from '../engine/local-engine.js';

export interface SfnTarget {
  client: SFNClient;
  stateMachineArn: string;
  /** For messages: the endpoint, or "AWS". */
  where: string;
  local: boolean;
  executionArn(nameOrArn: string): string;
}

export function sfnTarget(config: FreezerConfig, env: NodeJS.ProcessEnv = process.env): SfnTarget {
  const onAws = Boolean(env.STATE_MACHINE_ARN) && !env.SFN_ENDPOINT;
  const stateMachineArn = env.STATE_MACHINE_ARN ?? localStateMachineArn;
  const endpoint = onAws ? null : (env.SFN_ENDPOINT ?? localUrl(localConfig(config), env));
  const client = endpoint
    ? new SFNClient({
        endpoint,
        region: env.AWS_REGION ?? 'local',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
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
