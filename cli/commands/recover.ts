// `freezer-dr recover <host>`: one recovery, now. Through the running `freezer-dr serve`
// when one answers (StartExecution on its Step Functions endpoint: the run acts on the
// server's cloud and is listed by `executions` and on its page), or on AWS with
// STATE_MACHINE_ARN; otherwise on the embedded engine in this process, saying plainly
// which cloud that is (with the simulated driver: one of its own, in memory).
import { configPath, type FreezerConfig, loadConfigFile } from '../../core/config.js';
import { type RecoveryInput, StepFunctionsExecutions } from '../../core/executions.js';
import { nowIso } from '../../core/time.js';
import { requestJson } from '../../drivers/http-json.js';
import { LocalEngine } from '../../engine/local-engine.js';
import { createRuntime } from '../../engine/runtime.js';
import { confirmHost } from '../confirm.js';
import { CliError } from '../failure.js';
import { printOutcome, progressPrinter } from '../progress.js';
import { type SfnTarget, sfnTarget } from '../sfn-target.js';
import { failServedHost } from '../simulated-failure.js';
import { watchCommand } from './executions.js';

export interface RecoverOptions {
  incident?: string;
  simulateFailure: boolean;
  yes?: boolean;
}

const say = (line: string) => process.stdout.write(`${line}\n`);

/** Whether a `freezer-dr serve` answers at `url` (its /health route). */
async function serveAnswers(url: string): Promise<boolean> {
  try {
    const answer = await requestJson<{ ok?: boolean }>(`${url}/health`, { timeoutMs: 5000, anyStatus: true });
    return answer.status === 200 && answer.data?.ok === true;
  } catch {
    return false;
  }
}

/**
 * An operator's recovery: Nova must still agree the host is down before it is fenced, but the
 * gates that protect automatic recovery (pause, maintenance, mass failure) are the operator's call.
 */
const recoveryInput = (host: string, options: RecoverOptions): RecoveryInput => {
  const at = nowIso();
  return {
    host,
    incident: options.incident ?? `manual-${at.replace(/[:.]/g, '')}`,
    cause: `manual recovery of ${host}`,
    requestedAt: at,
    operator: true,
    channels: [
      { channel: 'operator', source: 'freezer-dr recover', at, detail: `manual recovery of ${host}` },
    ],
  };
};

/** Starts the recovery on the running server (or AWS) and follows it like `executions watch`. */
async function recoverThrough(
  target: SfnTarget,
  config: FreezerConfig,
  host: string,
  options: RecoverOptions,
): Promise<number> {
  const simulated = target.local && config.cloud.driver === 'simulated';
  const where = target.local
    ? `in the ${simulated ? 'SIMULATED' : config.cloud.driver} cloud of the freezer-dr serve at ${target.where}`
    : `through ${target.where}`;
  await confirmHost(
    host,
    `recover ${host} ${where}: power it off and evacuate its instances`,
    options.yes === true,
  );
  say(`*** recovering ${host} ${where} ***`);
  if (simulated && options.simulateFailure) {
    say(`SIMULATED failure: ${await failServedHost(target.where, host)}`);
  }
  const input = recoveryInput(host, options);
  const started = await new StepFunctionsExecutions(target.client, target.stateMachineArn).start(input);
  if (!started.started) {
    throw new CliError(
      `${started.executionName} exists already: incident ${input.incident} of ${host} is recovered or being recovered (executions show ${started.executionName})`,
    );
  }
  return watchCommand(started.executionName, { interval: '500' });
}

/** No server: the embedded engine in this process, against the configured cloud (or a simulated one of its own). */
async function recoverHere(
  config: FreezerConfig,
  path: string,
  url: string,
  host: string,
  options: RecoverOptions,
): Promise<number> {
  const simulated = config.cloud.driver === 'simulated';
  const where = simulated
    ? `in a SIMULATED cloud of its own (in memory, gone when this command ends: not the one \`npm start\` serves)`
    : `in the ${config.cloud.driver} cloud of ${path}`;
  await confirmHost(
    host,
    `recover ${host} ${where}: power it off and evacuate its instances`,
    options.yes === true,
  );
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  const rt = await createRuntime(config);
  try {
    say(
      `*** no freezer-dr serve answers at ${url}: recovering ${host} here, on the embedded engine, ${where}; \`executions list\` will not show it ***`,
    );
    if (rt.simulated && options.simulateFailure) {
      rt.simulated.state.killCompute(host, { reportedAgoMs: 120_000 });
      say(`*** simulated failure: nova-compute on ${host} stopped reporting 120 s ago ***`);
    }
    const input = recoveryInput(host, options);
    say(`recovering ${host} (incident ${input.incident}) with statemachine/host-recovery.asl.json`);
    const print = progressPrinter(say);
    const engine = new LocalEngine({ runtime: async () => rt, onEvent: print });
    const outcome = await engine.start({ ...input }).done;
    return printOutcome(outcome, 'nothing to recover', say);
  } finally {
    await rt.simulated?.close();
  }
}

export async function recoverCommand(host: string, options: RecoverOptions): Promise<number> {
  const path = configPath();
  const config = loadConfigFile(path);
  const target = sfnTarget(config);
  if (!target.local || (await serveAnswers(target.where)))
    return recoverThrough(target, config, host, options);
  return recoverHere(config, path, target.where, host, options);
}
