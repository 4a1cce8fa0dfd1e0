// The runtime of a deployed function: built once per container from the config file
// (FREEZER_DR_CONFIG), with the driver kinds its step uses and no others, so each bundle
// carries only those drivers' code. A failed build is not cached: the next invocation
// tries again (a secret store that was unreachable may answer now).

import { configPath, type FreezerConfig, loadConfigFile } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import type { Runtime, RuntimeProvider } from '../../core/runtime.js';
import { buildDrivers, type DriverKinds } from '../../drivers/driver-set.js';

/** `adapt` turns the file's config into the one this function runs with (the intake's own credentials). */
export function functionRuntime(
  kinds: DriverKinds,
  adapt: (config: FreezerConfig) => FreezerConfig = (config) => config,
): RuntimeProvider {
  let cached: Promise<Runtime> | null = null;
  const build = async (): Promise<Runtime> => {
    const config = adapt(loadConfigFile(configPath()));
    const logger = createLogger();
    const drivers = await buildDrivers(config, kinds, { logger, simulated: null, env: process.env });
    return { ...drivers, config, policy: config.recovery, logger };
  };
  return () => {
    cached ??= build().catch((error) => {
      cached = null;
      throw error;
    });
    return cached;
  };
}
