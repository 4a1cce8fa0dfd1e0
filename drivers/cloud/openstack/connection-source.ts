// Where the OpenStack credentials come from, for the cloud driver and the email notifier's
// Keystone lookups alike: clouds.yaml content from a secret reference (`clouds`), else
// the Secrets Manager secret OPENSTACK_SECRET_ID names (serverless.yml sets it), else the
// openstacksdk places (clouds.yaml files with OS_CLOUD, or OS_* variables).
import { CLOUD_TRANSIENT, CloudError, CONFIG_INVALID, WorkflowError } from '../../../core/errors.js';
import {
  readSecret,
  type SecretRef,
  type SecretsManagerGet,
  SecretUnavailable,
} from '../../../core/secrets.js';
import { type Connection, connectionFromCloudsYaml, resolveConnection } from './credentials.js';

export interface CredentialOptions {
  /** Cloud name in clouds.yaml (OS_CLOUD when omitted). */
  cloud?: string | undefined;
  /** clouds.yaml content: {file}, {env} or {secret}. */
  clouds?: SecretRef | undefined;
}

export async function openstackConnection(
  options: CredentialOptions,
  context: { env: NodeJS.ProcessEnv; secretsManager?: SecretsManagerGet | undefined },
): Promise<Connection> {
  const fromEnv = context.env.OPENSTACK_SECRET_ID;
  const ref = options.clouds ?? (fromEnv ? { secret: fromEnv } : undefined);
  if (!ref) return resolveConnection(options.cloud ? { cloud: options.cloud } : {}, context.env);
  let text: string;
  try {
    text = await readSecret(ref, {
      what: 'clouds.yaml',
      env: context.env,
      secretsManager: context.secretsManager,
    });
  } catch (error) {
    if (!(error instanceof SecretUnavailable)) throw error;
    // An unreachable store is worth the workflow's Cloud.Transient retries; a missing secret is not.
    if (error.retryable) throw new CloudError(CLOUD_TRANSIENT, error.message, null);
    throw new WorkflowError(CONFIG_INVALID, error.message);
  }
  return connectionFromCloudsYaml(text, options.cloud ?? (context.env.OS_CLOUD || undefined));
}
