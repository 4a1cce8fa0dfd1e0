// `freezer-dr recover <host>`: run one recovery on the embedded engine, in the foreground.
import { configPath, loadConfigFile } from '../../core/config.js';
import { createRuntime } from '../../core/runtime.js';
import { nowIso } from '../../core/time.js';
import { LocalEngine } from '../../engine/local-engine.js';
import { confirmHost } from '../confirm.js';
import { progressPrinter } from '../progress.js';

export async function recoverCommand(
  host: string,
  options: { incident?: string; simulateFailure: boolean; yes?: boolean },
): Promise<number> {
  const path = configPath();
  const config = loadConfigFile(path);
  const where =
    config.cloud.driver === 'simulated' ? 'in the SIMULATED cloud' : `in the ${config.cloud.driver} cloud`;
  await confirmHost(
    host,
    `recover ${host} ${where}: power it off and evacuate its instances`,
    options.yes === true,
  );
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  const rt = await createRuntime(config);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  try {
    if (rt.simulated) {
      say(
        `*** SIMULATED cloud (${path}: cloud.driver simulated): in-memory Nova + BMCs on ${rt.simulated.url} ***`,
      );
      if (options.simulateFailure) {
        rt.simulated.state.killCompute(host, { reportedAgoMs: 120_000 });
        say(`*** simulated failure: nova-compute on ${host} stopped reporting 120 s ago ***`);
      }
    }
    const engine = new LocalEngine({ runtime: async () => rt, onEvent: progressPrinter(say) });
    const incident = options.incident ?? `manual-${nowIso().replace(/[:.]/g, '')}`;
    say(
      `recovering ${host} (incident ${incident}) with statemachine/host-recovery.asl.json on the embedded engine`,
    );
    const run = engine.start({ host, incident, cause: `manual recovery of ${host}`, requestedAt: nowIso() });
    const outcome = await run.done;
    const output = outcome.output as { summary?: { message?: string } } | null;
    say('');
    if (outcome.status === 'SUCCEEDED') {
      say(`SUCCEEDED  ${output?.summary?.message ?? 'nothing to recover'}`);
      return 0;
    }
    say(`${outcome.status}  ${outcome.error ?? ''}: ${outcome.cause ?? ''}`);
    return 1;
  } finally {
    await rt.simulated?.close();
  }
}
