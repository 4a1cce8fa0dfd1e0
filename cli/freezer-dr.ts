#!/usr/bin/env node
// The freezer-dr command line. Errors are one clear line and a non-zero exit.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { checkConfigCommand } from './commands/check-config.js';
import { type DrainOptions, drainCommand } from './commands/drain.js';
import { listCommand, showCommand, watchCommand } from './commands/executions.js';
import { fireCommand } from './commands/fire.js';
import { hostsCommand } from './commands/hosts.js';
import { planCommand } from './commands/plan.js';
import { type ReconcileCliOptions, reconcileCommand } from './commands/reconcile.js';
import { type RecoverOptions, recoverCommand } from './commands/recover.js';
import { type RestoreCliOptions, restoreCommand } from './commands/restore.js';
import { serveCommand } from './commands/serve.js';
import { describeFailure } from './failure.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const program = new Command()
  .name('freezer-dr')
  .version(version, '-V, --version', 'print the version of freezer-dr')
  .description(
    'Compute-node high availability for OpenStack: fence, evacuate, verify, notify.\n' +
      'Config: $FREEZER_DR_CONFIG or ./freezer-dr.yaml.',
  )
  .showHelpAfterError();

const exitWith = (code: number) => {
  process.exitCode = code;
};

program
  .command('serve')
  .description(
    'run the webhook, a local Step Functions endpoint and the executions page on 127.0.0.1 (npm start)',
  )
  .option('--port <port>', 'port for all three (default: local.port, 8420)')
  .option('--host <address>', 'address to bind (default: local.host, 127.0.0.1)')
  .option('--data-dir <dir>', 'where executions are kept (default: local.dataDir, .freezer-dr)')
  .action(serveCommand);

program
  .command('fire')
  .description(
    'send a test alert for <host> to the running server’s webhook (simulated cloud: fail the host first)',
  )
  .argument('<host>', 'compute host the alert is about')
  .option('--no-fail', 'with the simulated cloud: do not make the host fail first')
  .option('-y, --yes', 'with a real cloud: do not ask (required when stdin is not a terminal)')
  .action(async (host: string, options: { fail: boolean; yes?: boolean }) =>
    exitWith(await fireCommand(host, options)),
  );

const executions = program
  .command('executions')
  .description(
    'recoveries, through the Step Functions API: the local server (default, SFN_ENDPOINT) or AWS (STATE_MACHINE_ARN)',
  );
executions
  .command('list')
  .description('newest first: host, status, duration')
  .option('--status <status>', 'RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED')
  .option('--max <n>', 'at most this many', '20')
  .option('--drains', 'host drains instead of recoveries')
  .action(async (options: { status?: string; max: string; drains?: boolean }) =>
    exitWith(await listCommand(options)),
  );
executions
  .command('show')
  .description('one execution: its stages and instances (default: the newest)')
  .argument('[name]', 'execution name or ARN')
  .option('--drains', 'a host drain instead of a recovery')
  .action(async (name: string | undefined, options: { drains?: boolean }) =>
    exitWith(await showCommand(name, options)),
  );
executions
  .command('watch')
  .description('follow one execution until it ends (default: the newest); exit 0 only if it succeeded')
  .argument('[name]', 'execution name or ARN')
  .option('--interval <ms>', 'poll interval', '1000')
  .option('--drains', 'a host drain instead of a recovery')
  .action(async (name: string | undefined, options: { interval: string; drains?: boolean }) =>
    exitWith(await watchCommand(name, options)),
  );

program
  .command('recover')
  .description(
    'recover <host> now (asks first): through the running freezer-dr serve, or AWS with STATE_MACHINE_ARN; with neither, on the embedded engine in this process',
  )
  // Required: a command that powers a host off never picks one by itself.
  .argument('<host>', 'failed compute host')
  .option('--incident <id>', 'incident id (default: manual-<time>)')
  .option('--no-simulate-failure', 'with the simulated cloud: do not stop the host first')
  .option('-y, --yes', 'do not ask (required when stdin is not a terminal)')
  .action(async (host: string, options: RecoverOptions) => exitWith(await recoverCommand(host, options)));

program
  .command('drain')
  .description(
    'live-migrate every instance off <host> and disable it (planned maintenance, a failing host): through the running freezer-dr serve, or AWS with DRAIN_STATE_MACHINE_ARN',
  )
  .argument('<host>', 'compute host to empty')
  .option('--dry-run', 'print the plan (what moves where, what stays and why); change nothing')
  .option('--reason <text>', 'why (kept in the disabled reason and the report)')
  .option('--incident <id>', 'incident id (default: drain-<time>)')
  .option('-y, --yes', 'do not ask (required when stdin is not a terminal)')
  .action(async (host: string, options: DrainOptions) => exitWith(await drainCommand(host, options)));

program
  .command('restore')
  .description(
    'bring a repaired or drained host back: power on, wait for nova-compute and completed evacuations, then clear forced_down and enable (a drained host: enable it)',
  )
  .argument('<host>', 'repaired compute host')
  .option('--leave-disabled', 'clear forced_down but leave the service disabled')
  .option('--timeout <seconds>', 'give up waiting after this long', '600')
  .option('--poll-ms <ms>', 'how often Nova is read while waiting', '2000')
  .action(async (host: string, options: RestoreCliOptions) => exitWith(await restoreCommand(host, options)));

program
  .command('plan')
  .description(
    'dry run for <host>: what would be fenced and evacuated, and whether the other hosts have room',
  )
  .argument('<host>', 'compute host')
  .action(async (host: string) => exitWith(await planCommand(host)));

program
  .command('hosts')
  .description('compute services: status, state, forced down, last report, and what fences each')
  .action(async () => exitWith(await hostsCommand()));

program
  .command('reconcile')
  .description(
    'resume or report hosts freezer-dr took down whose recovery is not running, and unlock instances a cut-short recovery left locked (never powers anything)',
  )
  .option('--dry-run', 'report what it would do; change nothing')
  .option('--notify', 'also send what needs a person to the configured notifiers')
  .action(async (options: ReconcileCliOptions) => exitWith(await reconcileCommand(options)));

program
  .command('check-config')
  .description('load and validate the config, every driver section included')
  .action(() => exitWith(checkConfigCommand()));

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`freezer-dr: ${describeFailure(error)}\n`);
  process.exitCode = 1;
});
