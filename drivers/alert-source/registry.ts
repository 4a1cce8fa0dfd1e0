// Webhook payload formats; the order of `alertSources` is the order bodies are matched in.

import type { AlertSource } from '../../core/ports.js';
import { type DriverContext, type DriverTable, define, pickDriver } from '../driver-factory.js';
import { AlertmanagerSource, alertmanagerOptions } from './alertmanager.js';
import { GenericSource, genericOptions } from './generic.js';
import { NagiosSource, nagiosOptions } from './nagios.js';
import { ZabbixSource, zabbixOptions } from './zabbix.js';

/** What makes an alert "degraded" (config drain.triggers): it starts a drain, never a recovery. */
export interface DrainTriggers {
  alertnames: string[];
  nagiosServices: string[];
}
const NO_TRIGGERS: DrainTriggers = { alertnames: [], nagiosServices: [] };
type SourceContext = DriverContext & { drainTriggers?: DrainTriggers };

export const alertSourceDrivers: DriverTable<AlertSource> = {
  alertmanager: define(
    alertmanagerOptions,
    (options, context) =>
      new AlertmanagerSource(options, (context as SourceContext).drainTriggers?.alertnames),
  ),
  zabbix: define(zabbixOptions, () => new ZabbixSource()),
  nagios: define(
    nagiosOptions,
    (_options, context) => new NagiosSource((context as SourceContext).drainTriggers?.nagiosServices),
  ),
  generic: define(genericOptions, () => new GenericSource()),
};

/** The webhook's payload parsers; every format with its defaults when the list is empty. */
export function createAlertSources(
  sections: { driver: string }[],
  drainTriggers: DrainTriggers = NO_TRIGGERS,
): AlertSource[] {
  const chosen = sections.length ? sections : Object.keys(alertSourceDrivers).map((driver) => ({ driver }));
  return chosen.map((section, index) => {
    const { factory, options } = pickDriver(`alertSources[${index}]`, alertSourceDrivers, section);
    return factory.create(options, { drainTriggers } as SourceContext) as AlertSource;
  });
}
