// The runtime of what runs outside Lambda (the CLI, the embedded engine, tests, benches):
// every driver kind, validated together, and the in-process simulated cloud when the
// config asks for it. Deployed functions compose theirs in functions/lib/function-runtime.ts.
import type { FreezerConfig } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import type { Runtime } from '../core/runtime.js';
import type { SimulatedCloud } from '../drivers/cloud/simulated/server.js';
import { createDrivers } from '../drivers/registry.js';

export interface LocalRuntime extends Runtime {
  /** The in-process simulated cloud (its /simulated/ routes, its state), when the config uses it. */
  simulated: SimulatedCloud | null;
}

export async function createRuntime(
  config: FreezerConfig,
  overrides: Partial<
    Pick<LocalRuntime, 'logger' | 'simulated' | 'notifiers' | 'fencer' | 'cloud' | 'state' | 'recoveries'>
  > = {},
): Promise<LocalRuntime> {
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
