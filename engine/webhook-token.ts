// The bearer token `serve` accepts on its webhook and `fire` sends. The configured one
// (intake.auth.bearer: a file or a variable) when there is one; otherwise a random token
// made once and kept in <dataDir>/webhook-token (mode 0600), so the local webhook is
// never open and no one has to invent a secret to try freezer-dr.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FreezerConfig } from '../core/config.js';
import { intakeConfigSchema } from '../core/intake/config.js';
import { MIN_SECRET_LENGTH } from '../core/intake/secrets.js';

export interface WebhookToken {
  token: string;
  /** Where it comes from, for the banner (never the value). */
  origin: string;
  /** Environment for the webhook: the generated token under the configured variable name. */
  env: NodeJS.ProcessEnv;
}

const firstUsable = (text: string) =>
  text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .find((line) => line.length >= MIN_SECRET_LENGTH) ?? null;

/** null when bearer authentication is switched off (intake.auth.bearer: null). */
export function webhookToken(
  config: FreezerConfig,
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
  options: { create: boolean } = { create: true },
): WebhookToken | null {
  const bearer = intakeConfigSchema.parse(config.intake ?? {}).auth.bearer;
  if (!bearer) return null;
  if (bearer.file) {
    const token = existsSync(bearer.file) ? firstUsable(readFileSync(bearer.file, 'utf8')) : null;
    if (!token)
      throw new Error(
        `intake.auth.bearer.file ${bearer.file} holds no token of ${MIN_SECRET_LENGTH}+ characters`,
      );
    return { token, origin: `file ${bearer.file}`, env };
  }
  const fromEnv = bearer.env ? firstUsable(env[bearer.env] ?? '') : null;
  if (fromEnv) return { token: fromEnv, origin: `$${bearer.env}`, env };
  const path = join(dataDir, 'webhook-token');
  if (!existsSync(path)) {
    if (!options.create)
      throw new Error(`no webhook token: set $${bearer.env} or start \`freezer-dr serve\` once`);
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(path, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
  }
  const token = firstUsable(readFileSync(path, 'utf8'));
  if (!token) throw new Error(`${path} holds no usable token; delete it to make a new one`);
  return { token, origin: path, env: { ...env, [bearer.env ?? 'FREEZER_DR_WEBHOOK_TOKEN']: token } };
}
