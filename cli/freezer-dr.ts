#!/usr/bin/env node
// The freezer-dr command line. Errors are one clear line and a non-zero exit.
import { Command } from 'commander';
import { recoverCommand } from './commands/recover.js';

const program = new Command()
  .name('freezer-dr')
  .description('Compute-node high availability for OpenStack: fence, evacuate, verify, notify.')
  .showHelpAfterError();

program
  .command('recover')
  .description(
    'run one host recovery now on the embedded engine (config: $FREEZER_DR_CONFIG or ./freezer-dr.yaml)',
  )
  .argument('[host]', 'failed compute host', 'compute-1')
  .option('--incident <id>', 'incident id (default: manual-<time>)')
  .option('--no-simulate-failure', 'with the simulated cloud: do not stop the host first')
  .action(async (host: string, options: { incident?: string; simulateFailure: boolean }) => {
    process.exitCode = await recoverCommand(host, options);
  });

program.parseAsync(process.argv).catch((error: Error) => {
  process.stderr.write(`freezer-dr: ${error.message}\n`);
  process.exitCode = 1;
});
