// Secrets (SMTP password, webhook URL, tokens) come from a file or an environment
// variable named in the config, never from the config itself: freezer-dr.yaml is
// readable by many, and Secrets Manager / Kubernetes secrets mount as files or env vars.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { NotifierError } from './notifier-error.js';

export const secretRefSchema = z
  .strictObject({
    /** File holding the value (trailing newline ignored), e.g. a mounted secret. */
    file: z.string().min(1).optional(),
    /** Environment variable holding the value. */
    env: z.string().min(1).optional(),
  })
  .refine((ref) => (ref.file ? 1 : 0) + (ref.env ? 1 : 0) === 1, {
    message: 'set exactly one of file or env',
  });

export type SecretRef = z.infer<typeof secretRefSchema>;

/** Reads the secret at use time, so a rotated value is picked up without a restart. */
export function readSecret(ref: SecretRef, env: NodeJS.ProcessEnv, what: string): string {
  if (ref.env) {
    const value = env[ref.env];
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
