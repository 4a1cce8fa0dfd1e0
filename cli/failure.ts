// Errors as one line an operator can act on: a refused connection to the local server
// says how to start it, everything else says what failed.
export class CliError extends Error {}

export function describeFailure(error: unknown, where?: string): string {
  const e = error as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException; $metadata?: unknown };
  const code = e?.code ?? e?.cause?.code;
  if (code === 'ECONNREFUSED' || /ECONNREFUSED/.test(String(e?.message))) {
    return `nothing answers at ${where ?? 'the freezer-dr server'}: start it with \`npm start\` (or point SFN_ENDPOINT / FREEZER_DR_URL at it)`;
  }
  if (code === 'EADDRINUSE') {
    return `${e.message}: another freezer-dr serve? stop it, or pick another port with --port (0: any free port)`;
  }
  const message = e instanceof Error ? e.message : String(error);
  return (
    e instanceof Error && e.name && e.name !== 'Error' && !(e instanceof CliError)
      ? `${e.name}: ${message}`
      : message
  ).split('\n')[0] as string;
}
