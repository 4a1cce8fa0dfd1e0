// `freezer-dr check-config`: load and validate the whole config, every driver section
// included, without starting anything. Exit 0 only when all of it is valid.
import { configPath, loadConfigFile } from '../../core/config.js';
import { validateDriverSections } from '../../drivers/registry.js';
import { localConfig } from '../../engine/local-config.js';

export function checkConfigCommand(): number {
  const path = configPath();
  const config = loadConfigFile(path);
  validateDriverSections(config);
  const local = localConfig(config);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`${path}: valid`);
  say(
    `  cloud ${config.cloud.driver}, fencer ${config.fencer.driver}, notifiers ${config.notifiers.map((n) => n.driver).join(', ') || 'none'}, state ${config.state.driver}`,
  );
  say(`  alert sources ${config.alertSources.map((s) => s.driver).join(', ') || '(built-in defaults)'}`);
  say(
    `  selection ${config.recovery.selection.mode}, evacuation maxConcurrency ${config.recovery.evacuation.maxConcurrency}`,
  );
  say(`  serve on ${local.host}:${local.port}, data in ${local.dataDir}`);
  if (config.cloud.driver === 'simulated')
    say('  *** SIMULATED cloud: nothing real is fenced or evacuated ***');
  if (config.fencer.driver === 'noop') say('  *** RECORD-ONLY fencing: freezer-dr powers nothing off ***');
  return 0;
}
