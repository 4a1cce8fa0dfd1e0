// What every step gets: the config, the drivers and a logger. The CLI, the embedded
// engine and tests build it with every driver kind here; a deployed function builds its
// own with only the kinds its step uses (core/function-runtime.ts).
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Drivers } from '../drivers/driver-set.js';
import { createDrivers } from '../drivers/registry.js';
import type { FreezerConfig, RecoveryPolicy } from './config.js';
import type { ExecutionsApi } from './executions.js';
import type { StateStore } from './intake/state-store.js';
import { createLogger } from './logger.js';

export interface Runtime extends Drivers {
  config: FreezerConfig;
  policy: RecoveryPolicy;
  logger: Logger;
  /** Small shared state: notify-once claims and start windows (intake and workflow steps). */
  state: StateStore;
  /**
   * The host-recovery workflow's executions, for a drain that hands a dead host over
   * (HandOverToRecovery); deployed functions build theirs from RECOVERY_STATE_MACHINE_ARN.
   */
  recoveries?: ExecutionsApi;
}

export type RuntimeProvider = () => Promise<Runtime>;

export async function createRuntime(
  config: FreezerConfig,
  overrides: Partial<
    Pick<Runtime, 'logger' | 'simulated' | 'notifiers' | 'fencer' | 'cloud' | 'state' | 'recoveries'>
  > = {},
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
    state: overrides.state ?? drivers.state,
    ...(overrides.recoveries ? { recoveries: overrides.recoveries } : {}),
  };
}
