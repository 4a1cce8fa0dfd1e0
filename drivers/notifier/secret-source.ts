// Notifier secrets (SMTP password, webhook URL and headers) through core/secrets.ts,
// read at send time so a rotated value is picked up without a restart. A secret that
// cannot be read fails the delivery as a NotifierError: retried only when the store was
// unreachable, never when the secret is missing or refused.
import { type ReadSecretOptions, readSecret, type SecretRef, SecretUnavailable } from '../../core/secrets.js';
import { NotifierError } from './notifier-error.js';

export async function readNotifierSecret(ref: SecretRef, options: ReadSecretOptions): Promise<string> {
  try {
    return await readSecret(ref, options);
  } catch (error) {
    if (error instanceof SecretUnavailable) throw new NotifierError(error.message, error.retryable);
    throw error;
  }
}
