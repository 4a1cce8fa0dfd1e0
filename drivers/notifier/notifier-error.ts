// Errors notifiers throw. `retryable: false` tells deliver() that trying again cannot
// help (bad config, a 4xx from a webhook, a permanent SMTP rejection). Messages are
// built from status codes and service replies, never from URLs, headers or passwords.

export class NotifierError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'NotifierError';
  }
}

/** Replaces every known secret value in a message (defence in depth for library messages). */
export function redact(message: string, secrets: readonly (string | null | undefined)[]): string {
  let out = message;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join('***');
  }
  return out;
}
