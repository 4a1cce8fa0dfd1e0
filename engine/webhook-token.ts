// The bearer token `serve` accepts on its webhook and `fire` sends. The configured one
// (intake.auth.bearer: a file, a variable or a Secrets Manager secret) when there is one;
// otherwise a random token made once and kept in <dataDir>/webhook-token (mode 0600), so
// the local webhook is never open and no one has to invent a secret to try freezer-dr.
// A configured token shorter than the intake accepts is refused here, before anything
// starts: the intake would ignore it, and every alert carrying it would get 401.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FreezerConfig } from '../core/config.js';
import { intakeConfigSchema } from '../core/intake/config.js';
import { MIN_SECRET_LENGTH } from '../core/intake/secrets.js';
import { describeSecretRef, readSecret, type SecretRef, type SecretsManagerGet } from '../core/secrets.js';

export interface WebhookToken {
  token: string;
  /** Where it comes from, for the banner (never the value). */
  origin: string;
  /** A shell expression that yields it (for the banner's curl example), or null when none does. */
  shell: string | null;
  /** Environment for the webhook: the generated token under the configured variable name. */
  env: NodeJS.ProcessEnv;
}

/** The first of the configured token's lines (several during a rotation); every one must be long enough. */
async function configuredToken(
  ref: SecretRef,
  env: NodeJS.ProcessEnv,
  secretsManager: SecretsManagerGet | undefined,
): Promise<string> {
  const where = `intake.auth.bearer (${describeSecretRef(ref)})`;
  const text = await readSecret(ref, { what: where, field: 'token', env, secretsManager });
  const lines = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean);
  const short = lines.findIndex((line) => line.length < MIN_SECRET_LENGTH);
  if (!lines.length || short >= 0) {
    const which = lines.length > 1 ? `line ${short + 1} of ` : '';
    throw new Error(
      `${where}: ${which}the token is shorter than ${MIN_SECRET_LENGTH} characters, the minimum the webhook accepts; set a longer one (e.g. openssl rand -hex 24)`,
    );
  }
  return lines[0] as string;
}

/** null when bearer authentication is switched off (intake.auth.bearer: null). */
export async function webhookToken(
  config: FreezerConfig,
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
  options: { create: boolean; secretsManager?: SecretsManagerGet } = { create: true },
): Promise<WebhookToken | null> {
  const bearer = intakeConfigSchema.parse(config.intake ?? {}).auth.bearer;
  if (!bearer) return null;
  // An unset variable is no configured token: the generated one below stands in for it.
  if (!bearer.env || env[bearer.env]) {
    const token = await configuredToken(bearer, env, options.secretsManager);
    const shell = bearer.env ? `$${bearer.env}` : bearer.file ? `$(head -n1 ${bearer.file})` : null;
    return { token, origin: describeSecretRef(bearer), shell, env };
  }
  const path = join(dataDir, 'webhook-token');
  const token = tokenFile(
    path,
    options.create,
    `no webhook token: set $${bearer.env} or start \`freezer-dr serve\` once`,
  );
  return { token, origin: path, shell: `$(head -n1 ${path})`, env: { ...env, [bearer.env]: token } };
}

/** The random token kept in `path` (mode 0600), made there first when `create`; else `missing` is the error. */
export function tokenFile(path: string, create: boolean, missing: string): string {
  if (!existsSync(path)) {
    if (!create) throw new Error(missing);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
  }
  const token = readFileSync(path, 'utf8').split('\n')[0]?.trim() ?? '';
  if (token.length < MIN_SECRET_LENGTH)
    throw new Error(`${path} holds no usable token; delete it to make a new one`);
  return token;
}
