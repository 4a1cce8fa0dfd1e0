// Every driver of every kind, for what runs outside Lambda (CLI, embedded engine,
// check-config, tests): it validates every section, and starts the in-process simulated
// cloud when the config asks for it. Deployed functions load only the per-kind
// registries they need (drivers/*/registry.ts, through functions/lib/function-runtime.ts).
import type { Logger } from '@aws-lambda-powertools/logger';
import type { FreezerConfig } from '../core/config.js';
import { alertSourceDrivers } from './alert-source/registry.js';
import { cloudDrivers, simulatedCloudSchema } from './cloud/registry.js';
import { type SimulatedCloud, startSimulatedCloud } from './cloud/simulated/server.js';
import { pickDriver } from './driver-factory.js';
import { buildDrivers, type DriverKinds, type Drivers, validateKinds } from './driver-set.js';
import { fencerDrivers } from './fencer/registry.js';
import { monitorDrivers } from './monitor/registry.js';
import { notifierDrivers } from './notifier/registry.js';
import { stateDrivers } from './state/registry.js';

export { alertSourceDrivers, createAlertSources } from './alert-source/registry.js';
export { cloudDrivers } from './cloud/registry.js';
export type { DriverContext, DriverFactory } from './driver-factory.js';
export type { Drivers } from './driver-set.js';
export { fencerDrivers } from './fencer/registry.js';
export { notifierDrivers } from './notifier/registry.js';
export { stateDrivers } from './state/registry.js';

export const allDriverKinds: Required<DriverKinds> = {
  cloud: cloudDrivers,
  fencer: fencerDrivers,
  notifiers: notifierDrivers,
  state: stateDrivers,
};

/** Validates every driver section without creating anything (for check-config). */
export function validateDriverSections(config: FreezerConfig): void {
  validateKinds(config, allDriverKinds);
  config.alertSources.forEach((section, index) => {
    pickDriver(`alertSources[${index}]`, alertSourceDrivers, section);
  });
  config.monitors.forEach((section, index) => {
    pickDriver(`monitors[${index}]`, monitorDrivers, section);
  });
}

async function startConfiguredSimulation(config: FreezerConfig): Promise<SimulatedCloud> {
  const options = simulatedCloudSchema.parse(config.cloud);
  const simulated = await startSimulatedCloud({
    hosts: options.hosts,
    evacuateMs: options.evacuateMs,
    serviceDownMs: options.serviceDownSeconds * 1000,
    maxMicroversion: options.maxMicroversion,
  });
  for (const host of options.hosts) {
    for (let i = 1; i <= options.serversPerHost; i += 1) {
      simulated.state.addServer({
        host,
        name: `${host}-vm-${i}`,
        metadata: i % 2 ? { HA_Enabled: 'True' } : {},
      });
    }
  }
  return simulated;
}

/** Builds the drivers; starts the in-process simulated cloud when the config asks for it. */
export async function createDrivers(
  config: FreezerConfig,
  context: { logger: Logger; env?: NodeJS.ProcessEnv; simulated?: SimulatedCloud | null },
): Promise<Drivers> {
  validateDriverSections(config);
  let simulated = context.simulated ?? null;
  if (config.cloud.driver === 'simulated' && !simulated) simulated = await startConfiguredSimulation(config);
  return buildDrivers(config, allDriverKinds, {
    logger: context.logger,
    simulated,
    env: context.env ?? process.env,
  });
}
