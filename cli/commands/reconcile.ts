// `freezer-dr reconcile [--dry-run]`: one pass of the reconciler (core/reconcile.ts)
// against the configured cloud (or the simulated one inside `freezer-dr serve`) and the
// Step Functions the other CLI commands use. Exit 0 when nothing needs a person, 2 when
// something does.
import { configPath, loadConfigFile } from '../../core/config.js';
import { StepFunctionsExecutions } from '../../core/executions.js';
import { reconcile } from '../../core/reconcile.js';
import { operatorRuntime } from '../operator-runtime.js';
import { sfnTarget } from '../sfn-target.js';
import { table } from '../table.js';

export interface ReconcileCliOptions {
  dryRun?: boolean;
  notify?: boolean;
}

export async function reconcileCommand(options: ReconcileCliOptions): Promise<number> {
  const config = loadConfigFile(configPath());
  const { rt, banner, close } = await operatorRuntime(config);
  const target = sfnTarget(config);
  const say = (line = '') => process.stdout.write(`${line}\n`);
  try {
    if (banner) say(banner);
    const executions = new StepFunctionsExecutions(target.client, target.stateMachineArn);
    const dryRun = options.dryRun === true;
    const report = await reconcile(rt, executions, { dryRun, notify: options.notify === true });
    say(`reconcile${dryRun ? ' (dry run: nothing was changed)' : ''}: executions at ${target.where}`);
    if (report.hosts.length) {
      say();
      say(
        table(
          ['HOST', 'INCIDENT', 'ACTION', 'LEFT', 'POWER', 'DETAIL'],
          report.hosts.map((h) => [
            h.host,
            h.incident,
            h.action,
            String(h.remaining.length),
            h.power ?? '-',
            h.detail,
          ]),
        ),
      );
    }
    if (report.instances.length) {
      say();
      say(
        table(
          ['INSTANCE', 'HOST', 'PROBLEM', 'ACTION', 'DETAIL'],
          report.instances.map((i) => [`${i.name} (${i.id})`, i.host ?? '?', i.problem, i.action, i.detail]),
        ),
      );
    }
    say();
    say(report.summary);
    return report.attention > 0 ? 2 : 0;
  } finally {
    target.client.destroy();
    await close();
  }
}
