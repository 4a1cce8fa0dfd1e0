// `freezer-dr drain <host>`: live-migrate everything off a host before planned maintenance
// (or a failure it warns of): through the running `freezer-dr serve` when one answers, on
// AWS with DRAIN_STATE_MACHINE_ARN, otherwise on the embedded engine in this process.
// `--dry-run` prints the plan (what moves where, what stays and why, whether the other
// hosts have room) and changes nothing.
import { configPath, type FreezerConfig, loadConfigFile } from '../../core/config.js';
import { formatDrainReason } from '../../core/disabled-reason.js';
import { checkDrainHost } from '../../core/drain/check-drain-host.js';
import { type RecoveryInput, StepFunctionsExecutions } from '../../core/executions.js';
import { drainIncident } from '../../core/intake/drain-intake.js';
import { planEvacuation } from '../../core/plan-evacuation.js';
import { selectInstances } from '../../core/select-instances.js';
import { nowIso } from '../../core/time.js';
import { requestJson } from '../../drivers/http-json.js';
import { EngineExecutions } from '../../engine/engine-executions.js';
import { LocalEngine } from '../../engine/local-engine.js';
import { createRuntime } from '../../engine/runtime.js';
import { confirmHost } from '../confirm.js';
import { CliError } from '../failure.js';
import { operatorRuntime } from '../operator-runtime.js';
import { printOutcome, progressPrinter } from '../progress.js';
import { sfnTarget } from '../sfn-target.js';
import { table } from '../table.js';
import { watchCommand } from './executions.js';

export interface DrainOptions {
  dryRun?: boolean;
  incident?: string;
  reason?: string;
  yes?: boolean;
}

const say = (line = '') => process.stdout.write(`${line}\n`);

async function serveAnswers(url: string): Promise<boolean> {
  try {
    const answer = await requestJson<{ ok?: boolean }>(`${url}/health`, { timeoutMs: 5000, anyStatus: true });
    return answer.status === 200 && answer.data?.ok === true;
  } catch {
    return false;
  }
}

function drainInput(host: string, options: DrainOptions): RecoveryInput {
  const at = nowIso();
  const cause = options.reason ?? `planned maintenance of ${host} (freezer-dr drain)`;
  return {
    host,
    incident: options.incident ?? drainIncident(at),
    cause,
    requestedAt: at,
    operator: true,
    channels: [{ channel: 'operator', source: 'freezer-dr drain', at, detail: cause }],
  };
}

/** The plan, from the workflow's own steps that only read. 0: it would drain; 1: it would not. */
async function dryRun(config: FreezerConfig, host: string, options: DrainOptions): Promise<number> {
  const { rt, banner, close } = await operatorRuntime(config);
  try {
    if (banner) say(banner);
    say(`Drain plan for ${host} (dry run: nothing was changed)`);
    const check = await checkDrainHost(rt, { host });
    say(`  Nova:     ${check.evidence}`);
    if (check.status !== 'up') {
      say(
        check.status === 'down'
          ? `  A drain would hand ${host} over to its recovery (fence and evacuate): it is not up.`
          : `  A drain would do nothing: ${check.evidence}`,
      );
      return 1;
    }
    const input = drainInput(host, options);
    say(`  Disable:  "${formatDrainReason({ incident: input.incident, reason: input.cause })}"`);
    const selection = await selectInstances(rt, { host, purpose: 'drain' });
    const plan = await planEvacuation(rt, { host, ids: selection.ids, purpose: 'drain' }, { apply: false });
    const servers = await rt.cloud.listServersOnHost(host);
    const targetOf = new Map<string, string>();
    for (const wave of plan.waves)
      for (const item of wave.items) targetOf.set(item.id, plan.targets[item.t] ?? 'the Nova scheduler');
    const unplaced = new Map(plan.unplaced.map((u) => [u.id, u.reason]));
    const skipped = new Map(selection.skipped.map((s) => [s.id, s.reason]));
    say(
      `  Migrate:  ${targetOf.size} of ${servers.length} instances live${rt.config.drain.coldMigrateStopped ? ' (SHUTOFF ones cold)' : ''}, ${rt.config.drain.maxConcurrency} at a time`,
    );
    if (servers.length) {
      say(
        table(
          ['INSTANCE', 'NAME', 'STATUS', 'ACTION'],
          servers.map((s) => [
            s.id,
            s.name,
            s.status,
            targetOf.has(s.id)
              ? `${s.status === 'SHUTOFF' ? 'cold' : 'live'}-migrate to ${targetOf.get(s.id)}`
              : `stays: ${unplaced.get(s.id) ?? skipped.get(s.id) ?? 'not selected'}`,
          ]),
        ),
      );
    }
    say(`  Targets:  ${plan.summary} (capacity: ${plan.capacitySource})`);
    if (plan.unplacedCount > 0) {
      say(
        `  REFUSED:  the hosts left cannot hold ${plan.unplacedCount} instances: a drain would change nothing and report it`,
      );
      return 1;
    }
    say(
      `  A drain would disable ${host} and move ${targetOf.size} instances; ${servers.length - targetOf.size} would stay.`,
    );
    return 0;
  } finally {
    await close();
  }
}

/** No server: the drain (and a recovery it hands over to) on the embedded engine in this process. */
async function drainHere(
  config: FreezerConfig,
  host: string,
  options: DrainOptions,
  url: string,
): Promise<number> {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  const rt = await createRuntime(config);
  try {
    const where =
      config.cloud.driver === 'simulated'
        ? 'a SIMULATED cloud of its own (in memory, gone when this command ends)'
        : `the ${config.cloud.driver} cloud of ${configPath()}`;
    await confirmHost(
      host,
      `drain ${host} in ${where}: disable it and live-migrate its instances`,
      options.yes === true,
    );
    say(
      `*** no freezer-dr serve answers at ${url}: draining ${host} here, on the embedded engine, in ${where} ***`,
    );
    const print = progressPrinter(say);
    const recovery = new LocalEngine({ runtime: async () => rt, onEvent: print });
    const recoveries = new EngineExecutions(recovery);
    rt.recoveries = recoveries;
    const engine = new LocalEngine({ runtime: async () => rt, workflow: 'drain', onEvent: print });
    const input = drainInput(host, options);
    const outcome = await engine.start({ ...input }).done;
    await recoveries.settled();
    return printOutcome(outcome, 'nothing to drain', say);
  } finally {
    await rt.simulated?.close();
  }
}

export async function drainCommand(host: string, options: DrainOptions): Promise<number> {
  const config = loadConfigFile(configPath());
  if (options.dryRun) return dryRun(config, host, options);
  const target = sfnTarget(config, process.env, 'drain');
  if (target.local && !(await serveAnswers(target.where)))
    return drainHere(config, host, options, target.where);
  const where = target.local ? `the freezer-dr serve at ${target.where}` : target.where;
  await confirmHost(
    host,
    `drain ${host} through ${where}: disable it and live-migrate its instances`,
    options.yes === true,
  );
  const input = drainInput(host, options);
  const started = await new StepFunctionsExecutions(target.client, target.stateMachineArn).start(input);
  if (!started.started) {
    throw new CliError(
      `${started.executionName} exists already: ${host} is drained or being drained under incident ${input.incident}`,
    );
  }
  say(`*** draining ${host} through ${where} (execution ${started.executionName}) ***`);
  return watchCommand(target.executionArn(started.executionName), { interval: '500' });
}
