// Fencer drivers: the relay fencers for real power controllers, the simulated BMCs of the
// simulated cloud, and the record-only driver for sites that fence by other means.
import { CONFIG_INVALID, WorkflowError } from '../../core/errors.js';
import type { Fencer } from '../../core/ports.js';
import * as z from '../../core/zod.js';
import { type DriverTable, define } from '../driver-factory.js';
import { RecordOnlyFencer } from './noop.js';
import { createRelayFencer, relayFencerSchema } from './relay-options.js';
import { SimulatedFencer } from './simulated.js';

export const fencerDrivers: DriverTable<Fencer> = {
  simulated: define(z.strictObject({ driver: z.literal('simulated') }), (_options, context) => {
    if (!context.simulated) {
      throw new WorkflowError(CONFIG_INVALID, 'fencer.driver "simulated" needs cloud.driver "simulated"');
    }
    return new SimulatedFencer(context.simulated.state);
  }),
  noop: define(
    z.strictObject({
      driver: z.literal('noop'),
      /** Must be set: an explicit acknowledgement that power is controlled elsewhere. */
      iUnderstandHostsAreNotPoweredOff: z.literal(true),
    }),
    () => new RecordOnlyFencer(),
  ),
  /** IPMI through the bastion relay (infra/relay): the default for bare-metal computes. */
  'ipmi-relay': define(relayFencerSchema('ipmi-relay'), (options, context) =>
    createRelayFencer('ipmi-relay', 'ipmi', options, context),
  ),
  /** Redfish ComputerSystem.Reset ForceOff through the relay. */
  'redfish-relay': define(relayFencerSchema('redfish-relay'), (options, context) =>
    createRelayFencer('redfish-relay', 'redfish', options, context),
  ),
  /** virsh destroy through the relay, for lab clouds whose compute nodes are VMs. */
  'libvirt-relay': define(relayFencerSchema('libvirt-relay'), (options, context) =>
    createRelayFencer('libvirt-relay', 'libvirt', options, context),
  ),
};
