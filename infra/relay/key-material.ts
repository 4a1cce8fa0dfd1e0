// Secrets (HMAC keys, BMC passwords) come from a file or an environment variable named
// in config, never from the config itself, so configs and logs can be shared freely.
import { readFileSync } from 'node:fs';

export interface SecretSource {
  file?: string | undefined;
  env?: string | undefined;
}

/** Reads a secret now (files are re-read on every call so rotation needs no restart). */
export function readSecret(source: SecretSource, env: NodeJS.ProcessEnv, what: string): string {
  let value: string | undefined;
  if (source.file) {
    try {
      // First line only, like `ipmitool -f`: a trailing newline from `echo` is not part of it.
      value = readFileSync(source.file, 'utf8').split(/\r?\n/, 1)[0];
    } catch (error) {
      throw new Error(
        `cannot read ${what} file ${source.file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
  } else if (source.env) {
    value = env[source.env];
    if (value === undefined) throw new Error(`${what} variable ${source.env} is not set`);
  } else {
    throw new Error(`${what}: neither a file nor an environment variable is configured`);
  }
  if (!value) throw new Error(`${what} is empty`);
  return value;
}

export const MIN_KEY_LENGTH = 32;

/** The key in a secret's text: its first line, trimmed, at least 32 characters (e.g. `openssl rand -hex 32`). */
export function hmacKeyFrom(text: string): Buffer {
  const value = (text.split(/\r?\n/, 1)[0] ?? '').trim();
  if (value.length < MIN_KEY_LENGTH) {
    throw new Error(
      `HMAC key is shorter than ${MIN_KEY_LENGTH} characters; generate one with "openssl rand -hex 32"`,
    );
  }
  return Buffer.from(value, 'utf8');
}

/** An HMAC key from a file or variable (the relay's side; the fencer reads its key through core/secrets.ts). */
export function readHmacKey(source: SecretSource, env: NodeJS.ProcessEnv): Buffer {
  return hmacKeyFrom(readSecret(source, env, 'HMAC key'));
}
