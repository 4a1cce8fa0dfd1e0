// Every secret freezer-dr needs (OpenStack credentials, the relay's HMAC key, the SMTP
// password, webhook tokens and URLs) is named in config, never written there, so the
// config can be shown and logged: `{file}` (a mounted secret), `{env}` (a variable) or
// `{secret}` (AWS Secrets Manager, through Powertools' cached getSecret). Values never
// appear in errors or logs; messages say which secret and where, not what.
import { readFileSync } from 'node:fs';
import * as z from './zod.js';

const nonEmpty = () => z.string().check(z.minLength(1));

/** The fields of a secret reference, for sections that add options of their own (intake hmac). */
export const secretRefShape = {
  /** File holding the value; one trailing newline is not part of it. */
  file: z.optional(nonEmpty()),
  /** Environment variable holding the value. */
  env: z.optional(z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a variable name'))),
  /** AWS Secrets Manager secret id or ARN. */
  secret: z.optional(nonEmpty()),
  /** For a JSON value ({"password": ...}): the field holding the secret. */
  field: z.optional(nonEmpty()),
};

export interface SecretRef {
  file?: string | undefined;
  env?: string | undefined;
  secret?: string | undefined;
  field?: string | undefined;
}

const sources = (ref: SecretRef) => [ref.file, ref.env, ref.secret].filter(Boolean).length;
const ONE_SOURCE = 'set exactly one of file, env or secret';

/** A check for shapes built on secretRefShape: exactly one source (`atMost`: or none, for a default). */
export const oneSource =
  (atMost = false) =>
  (payload: z.core.ParsePayload<SecretRef>): void => {
    const count = sources(payload.value);
    if (count === 1 || (atMost && count === 0)) return;
    payload.issues.push({ code: 'custom', message: ONE_SOURCE, input: payload.value });
  };

/** `{file}`, `{env}` or `{secret}` (with an optional JSON `field`). */
export const secretRef = z.strictObject(secretRefShape).check(oneSource());

/** The variable to read when a reference names no source. */
export const orEnv =
  (env: string) =>
  <T extends SecretRef>(ref: T): T =>
    sources(ref) ? ref : { ...ref, env };

/** Where a secret is, for messages and logs: never its value. */
export function describeSecretRef(ref: SecretRef): string {
  if (ref.file) return `file ${ref.file}`;
  if (ref.secret) return `Secrets Manager secret ${ref.secret}`;
  return `variable ${ref.env ?? '(none)'}`;
}

/** A secret that could not be read; `retryable` when another try may succeed (the store was unreachable). */
export class SecretUnavailable extends Error {
  override readonly name = 'SecretUnavailable';
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** Fetches a Secrets Manager secret's string; tests replace it. */
export type SecretsManagerGet = (secretId: string, maxAgeSeconds: number) => Promise<string | undefined>;

// Loaded on first use: local runs and functions without Secrets Manager secrets need no AWS SDK.
const fromSecretsManager: SecretsManagerGet = async (secretId, maxAgeSeconds) => {
  const { getSecret } = await import('@aws-lambda-powertools/parameters/secrets');
  const value = await getSecret(secretId, { maxAge: maxAgeSeconds });
  return typeof value === 'string' ? value : value ? Buffer.from(value).toString('utf8') : undefined;
};

/** Refusals that another try cannot fix. */
const PERMANENT = /ResourceNotFound|AccessDenied|DecryptionFailure|InvalidParameter|InvalidRequest/;

export interface ReadSecretOptions {
  /** What the secret is, for messages: "SMTP password", "relay HMAC key". */
  what: string;
  /** A JSON Secrets Manager value yields this field unless the reference names its own. */
  field?: string;
  /** How long a Secrets Manager value is reused (Powertools cache); default 300 s. */
  maxAgeSeconds?: number;
  env?: NodeJS.ProcessEnv;
  secretsManager?: SecretsManagerGet | undefined;
}

async function fromStore(id: string, options: ReadSecretOptions): Promise<string> {
  const get = options.secretsManager ?? fromSecretsManager;
  try {
    return (await get(id, options.maxAgeSeconds ?? 300)) ?? '';
  } catch (error) {
    // Powertools wraps the SDK's error; its cause names the AWS error (never the value).
    const e = error as Error & { cause?: { name?: string; message?: unknown } };
    const text = `${e.cause?.name ?? e.name}: ${e.cause && 'message' in e.cause ? String(e.cause.message) : e.message}`;
    throw new SecretUnavailable(
      `${options.what}: Secrets Manager secret ${id}: ${text}`,
      !PERMANENT.test(text),
    );
  }
}

/** A JSON object value yields `field`; any other value is the secret itself. */
function pickField(value: string, field: string | undefined, explicit: boolean, where: string): string {
  if (!field || !value.trimStart().startsWith('{')) {
    if (explicit) throw new SecretUnavailable(`${where} is not JSON with a "${field}" field`, false);
    return value;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    if (explicit) throw new SecretUnavailable(`${where} is not JSON with a "${field}" field`, false);
    return value; // not JSON after all (a clouds.yaml in flow style, say): the value as it is
  }
  const picked = (parsed as Record<string, unknown>)[field];
  if (typeof picked !== 'string' || !picked) {
    throw new SecretUnavailable(`${where} is JSON without a "${field}" string`, false);
  }
  return picked;
}

/**
 * Reads a secret now (files are re-read on every call, Secrets Manager values are cached
 * for maxAgeSeconds), so a rotated value is picked up without a restart.
 */
export async function readSecret(ref: SecretRef, options: ReadSecretOptions): Promise<string> {
  const env = options.env ?? process.env;
  let value: string;
  if (ref.secret) {
    value = await fromStore(ref.secret, options);
  } else if (ref.env) {
    value = env[ref.env] ?? '';
    if (!value)
      throw new SecretUnavailable(`${options.what}: environment variable ${ref.env} is not set`, false);
  } else if (ref.file) {
    try {
      value = readFileSync(ref.file, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      throw new SecretUnavailable(`${options.what}: cannot read ${ref.file} (${code})`, false);
    }
  } else {
    throw new SecretUnavailable(`${options.what}: ${ONE_SOURCE}`, false);
  }
  const where = `${options.what}: ${describeSecretRef(ref)}`;
  // Only a Secrets Manager value is unpacked by default: its console stores key/value pairs as JSON.
  const field = ref.field ?? (ref.secret ? options.field : undefined);
  value = pickField(value, field, ref.field !== undefined, where);
  if (!value) throw new SecretUnavailable(`${where} is empty`, false);
  return value;
}
