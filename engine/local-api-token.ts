// The token `serve`'s Step Functions endpoint wants on the calls that change something
// (StartExecution, StopExecution, RedriveExecution): the webhook's bearer token, the one
// secret of this machine's freezer-dr (configured, or made in <dataDir>/webhook-token);
// with bearer authentication switched off, one of its own in <dataDir>/api-token. Clients
// send it as an AWS session token (x-amz-security-token: what @aws-sdk/client-sfn sends
// for `credentials.sessionToken`, and the AWS CLI for $AWS_SESSION_TOKEN) or as
// `Authorization: Bearer`.
import { join } from 'node:path';
import type { FreezerConfig } from '../core/config.js';
import type { SecretsManagerGet } from '../core/secrets.js';
import { tokenFile, webhookToken } from './webhook-token.js';

/** Overrides where the token comes from, for a client (e.g. a Lambda run against `serve`). */
export const API_TOKEN_ENV = 'FREEZER_DR_API_TOKEN';

export interface LocalApiToken {
  token: string;
  /** Where it is kept, for messages (never the value). */
  origin: string;
}

/**
 * `create: true` (serve) makes the token if there is none yet; `create: false` (a client)
 * resolves to null instead, and the endpoint's refusal says where the token lives.
 */
export async function localApiToken(
  config: FreezerConfig,
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
  options: { create: boolean; secretsManager?: SecretsManagerGet } = { create: true },
): Promise<LocalApiToken | null> {
  const fromEnv = env[API_TOKEN_ENV];
  if (!options.create && fromEnv) return { token: fromEnv, origin: `$${API_TOKEN_ENV}` };
  try {
    const webhook = await webhookToken(config, dataDir, env, options);
    if (webhook) return { token: webhook.token, origin: webhook.origin };
    const path = join(dataDir, 'api-token');
    return { token: tokenFile(path, options.create, `no ${path}`), origin: path };
  } catch (error) {
    if (options.create) throw error;
    return null;
  }
}
