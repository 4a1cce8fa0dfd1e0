// freezer-dr's own monitors (config `monitors`, default: the nova-services poll).

import type { Monitor } from '../../core/ports.js';
import { type DriverContext, type DriverTable, define, pickDriver } from '../driver-factory.js';
import { NovaServicesMonitor, novaServicesOptions } from './nova-services.js';

export const monitorDrivers: DriverTable<Monitor> = {
  'nova-services': define(novaServicesOptions, (options) => new NovaServicesMonitor(options.intervalSeconds)),
};

export function createMonitors(sections: { driver: string }[]): Monitor[] {
  return sections.map((section, index) => {
    const { factory, options } = pickDriver(`monitors[${index}]`, monitorDrivers, section);
    return factory.create(options, {} as DriverContext) as Monitor;
  });
}
