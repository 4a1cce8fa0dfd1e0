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

/** Keeps the lines that explain a failure, drops tool chatter, and never echoes a secret. */
export function summarizeOutput(text: string, noise: RegExp[], secrets: string[] = []): string {
  const lines = text
    .split(/\r?\n/)
    .map((line) => line.replace(/^>\s*/, '').trim())
    .filter((line) => line && !noise.some((n) => n.test(line)));
  let summary = lines.slice(-3).join(' / ').slice(0, 300);
  for (const secret of secrets) {
    if (secret) summary = summary.split(secret).join('***');
  }
  return summary || 'no output';
}
