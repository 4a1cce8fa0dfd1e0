// Secrets (SMTP password, webhook URL) never sit in freezer-dr.yaml, which many can read:
// the config names where to find them: a file (a mounted secret), an environment
// variable, or an AWS Secrets Manager secret. They are read at send time, so a rotated
// value is picked up without a restart.
import { readFileSync } from 'node:fs';
import { NotifierError } from './notifier-error.js';

export interface SecretRef {
  /** File holding the value (one trailing newline ignored). */
  file?: string | undefined;
  /** Environment variable holding the value. */
  env?: string | undefined;
  /** Secrets Manager secret id or ARN: the string itself, or `field` of its JSON. */
  secret?: string | undefined;
}

/** Fetches a Secrets Manager secret's string; replaceable in tests. */
export type SecretsManagerGet = (secretId: string) => Promise<string | undefined>;

/** Exactly one source must be named; used by the notifiers' zod refinements. */
export const oneSource = (...values: (string | undefined)[]) => values.filter(Boolean).length === 1;

// Loaded only when a secret is configured: local runs need no AWS SDK.
const fromSecretsManager: SecretsManagerGet = async (secretId) => {
  const { getSecret } = await import('@aws-lambda-powertools/parameters/secrets');
  // Cached for 5 minutes per warm Lambda: a report's retries do not call Secrets Manager again.
  const value = await getSecret(secretId, { maxAge: 300 });
  return typeof value === 'string' ? value : value ? Buffer.from(value).toString('utf8') : undefined;
};

/** Refusals that another try cannot fix. */
const PERMANENT = /ResourceNotFound|AccessDenied|DecryptionFailure|InvalidParameter|InvalidRequest/;

async function readFromSecretsManager(
  id: string,
  field: string,
  get: SecretsManagerGet,
  what: string,
): Promise<string> {
  let value: string | undefined;
  try {
    value = await get(id);
  } catch (error) {
    const e = error as Error & { cause?: { name?: string } };
    const text = `${e.cause?.name ?? e.name}: ${e.cause && 'message' in e.cause ? String(e.cause.message) : e.message}`;
    throw new NotifierError(`${what}: Secrets Manager secret ${id}: ${text}`, !PERMANENT.test(text));
  }
  if (!value) throw new NotifierError(`${what}: Secrets Manager secret ${id} has no string value`, false);
  // A JSON secret ({"username": ..., "password": ...}) yields its field; anything else is the value.
  if (value.trimStart().startsWith('{')) {
    try {
      const parsed = JSON.parse(value) as Record<string, unknown>;
      const picked = parsed[field];
      if (typeof picked !== 'string' || !picked) {
        throw new NotifierError(
          `${what}: Secrets Manager secret ${id} is JSON without a "${field}" string`,
          false,
        );
      }
      return picked;
    } catch (error) {
      if (error instanceof NotifierError) throw error;
      // Not JSON after all: use it as it is.
    }
  }
  return value;
}

export async function readSecret(
  ref: SecretRef,
  deps: { env: NodeJS.ProcessEnv; secretsManager?: SecretsManagerGet | undefined },
  what: string,
  field: string,
): Promise<string> {
  if (ref.secret)
    return readFromSecretsManager(ref.secret, field, deps.secretsManager ?? fromSecretsManager, what);
  if (ref.env) {
    const value = deps.env[ref.env];
    if (!value) throw new NotifierError(`${what}: environment variable ${ref.env} is not set`, false);
    return value;
  }
  const file = ref.file as string;
  let value: string;
  try {
    value = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw new NotifierError(
      `${what}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      false,
    );
  }
  if (!value) throw new NotifierError(`${what}: ${file} is empty`, false);
  return value;
}
