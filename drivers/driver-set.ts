// Builds the drivers of the kinds a caller asks for. A deployed function loads only the
// registries its step uses (the fence step bundles no SMTP library, summarize no cloud
// client); touching a kind that was not loaded is a clear error, never a silent stub.
import type { FreezerConfig } from '../core/config.js';
import { CONFIG_INVALID, WorkflowError } from '../core/errors.js';
import type { StateStore } from '../core/intake/state-store.js';
import type { Cloud, Fencer, Notifier } from '../core/ports.js';
import type { Ports } from '../core/runtime.js';
import type { CredentialOptions } from './cloud/openstack/connection-source.js';
import type { SimulatedCloud } from './cloud/simulated/server.js';
import { type DriverContext, type DriverTable, pickDriver } from './driver-factory.js';

export interface DriverKinds {
  cloud?: DriverTable<Cloud>;
  fencer?: DriverTable<Fencer>;
  notifiers?: DriverTable<Notifier>;
  state?: DriverTable<StateStore>;
}

export interface Drivers extends Ports {
  simulated: SimulatedCloud | null;
}

/** Validates the sections of the given kinds without creating anything. */
export function validateKinds(config: FreezerConfig, kinds: DriverKinds): void {
  if (kinds.cloud) pickDriver('cloud', kinds.cloud, config.cloud);
  if (kinds.fencer) pickDriver('fencer', kinds.fencer, config.fencer);
  if (kinds.state) pickDriver('state', kinds.state, config.state);
  const notifiers = kinds.notifiers;
  if (!notifiers) return;
  config.notifiers.forEach((section, i) => {
    pickDriver(`notifiers[${i}]`, notifiers, section);
  });
}

/** Stands in for a kind that was not loaded: any use names the kind. */
function notLoaded<T extends object>(kind: string): T {
  return new Proxy({} as T, {
    get(_target, property) {
      // Probes by await, inspection and coercion are not uses.
      if (property === 'then' || typeof property === 'symbol') return undefined;
      throw new WorkflowError(
        CONFIG_INVALID,
        `this function does not load ${kind} drivers (used: ${String(property)})`,
      );
    },
  });
}

export async function buildDrivers(
  config: FreezerConfig,
  kinds: DriverKinds,
  context: DriverContext,
): Promise<Drivers> {
  validateKinds(config, kinds);
  // Drivers that also call Keystone (email) use the cloud driver's credentials.
  const section = config.cloud as CredentialOptions;
  const shared: DriverContext =
    config.cloud.driver === 'openstack'
      ? { ...context, cloudCredentials: { cloud: section.cloud, clouds: section.clouds } }
      : context;
  const build = async <T>(kind: string, table: DriverTable<T>, section: { driver: string }) => {
    const { factory, options } = pickDriver(kind, table, section);
    return factory.create(options, shared);
  };
  const { cloud, fencer, notifiers, state } = kinds;
  const drivers: Drivers = {
    cloud: cloud ? await build('cloud', cloud, config.cloud) : notLoaded('cloud'),
    fencer: fencer ? await build('fencer', fencer, config.fencer) : notLoaded('fencer'),
    notifiers: notifiers
      ? await Promise.all(config.notifiers.map((s, i) => build(`notifiers[${i}]`, notifiers, s)))
      : notLoaded('notifier'),
    state: state ? await build('state', state, config.state) : notLoaded('state'),
    simulated: context.simulated,
  };
  // Every container that shares the state store also shares one Keystone token through it (sealed).
  if (cloud && state) {
    (
      drivers.cloud as { session?: { shareTokensThrough?(v: StateStore): void } }
    ).session?.shareTokensThrough?.(drivers.state);
  }
  return drivers;
}
