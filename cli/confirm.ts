// A destructive command asks first: the operator types the host name. Without a terminal
// there is no one to ask, so the command refuses unless --yes was given.
import { createInterface } from 'node:readline/promises';
import { CliError } from './failure.js';

export async function confirmHost(host: string, action: string, yes: boolean): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY) {
    throw new CliError(
      `${action}: refusing without --yes (stdin is not a terminal, so there is no one to ask)`,
    );
  }
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await prompt.question(`${action}.\nType the host name (${host}) to go ahead: `);
    if (answer.trim() !== host) throw new CliError('not confirmed: nothing was done');
  } finally {
    prompt.close();
  }
}
