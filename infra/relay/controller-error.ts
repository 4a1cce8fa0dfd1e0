import type { FailureClass } from './protocol.js';

/** A power controller call that failed, with the class the fencer and the drill act on. */
export class ControllerError extends Error {
  constructor(
    readonly failure: FailureClass,
    message: string,
  ) {
    super(message);
    this.name = 'ControllerError';
  }
}

/** Replaces every occurrence of each secret; done on whole text, before any clipping. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret) out = out.split(secret).join('***');
  }
  return out;
}

/** Keeps the lines that explain a failure, drops tool chatter, and never echoes a secret. */
export function summarizeOutput(text: string, noise: RegExp[], secrets: string[] = []): string {
  // Redact before clipping: a cut through the secret would leave a prefix no longer matched.
  const lines = redactSecrets(text, secrets)
    .split(/\r?\n/)
    .map((line) => line.replace(/^>\s*/, '').trim())
    .filter((line) => line && !noise.some((n) => n.test(line)));
  return lines.slice(-3).join(' / ').slice(0, 300) || 'no output';
}
