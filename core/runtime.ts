// What every step gets: the config, the drivers and a logger. Lambda builds one per
// container from freezer-dr.yaml; tests and the local engine build their own.
import type { Logger } from '@aws-lambda-powertools/logger';
import { createDrivers, type Drivers } from '../drivers/registry.js';
import { configPath, type FreezerConfig, loadConfigFile, type RecoveryPolicy } from './config.js';
import { createLogger } from './logger.js';

export interface Runtime extends Drivers {
  config: FreezerConfig;
  policy: RecoveryPolicy;
  logger: Logger;
}

export type RuntimeProvider = () => Promise<Runtime>;

export async function createRuntime(
  config: FreezerConfig,
  overrides: Partial<Pick<Runtime, 'logger' | 'simulated' | 'notifiers' | 'fencer' | 'cloud'>> = {},
): Promise<Runtime> {
  const logger = overrides.logger ?? createLogger();
  const drivers = await createDrivers(config, { logger, simulated: overrides.simulated ?? null });
  return {
    ...drivers,
    ...(overrides.cloud ? { cloud: overrides.cloud } : {}),
    ...(overrides.fencer ? { fencer: overrides.fencer } : {}),
    ...(overrides.notifiers ? { notifiers: overrides.notifiers } : {}),
    config,
    policy: config.recovery,
    logger,
  };
}

let cached: Promise<Runtime> | null = null;

/** The runtime of a Lambda container: built once from the config file, reused while warm. */
export const defaultRuntime: RuntimeProvider = () => {
  if (!cached) {
    cached = createRuntime(loadConfigFile(configPath())).catch((error) => {
      cached = null;
      throw error;
    });
  }
  return cached;
};
