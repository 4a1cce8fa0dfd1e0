// Cloud drivers: the real OpenStack (Keystone v3 + Nova) and the simulated one, which
// only the embedded engine can start (drivers/registry.ts); a deployed function refuses it.
import { CONFIG_INVALID, WorkflowError } from '../../core/errors.js';
import type { Cloud } from '../../core/ports.js';
import { secretRef } from '../../core/secrets.js';
import * as z from '../../core/zod.js';
import { type DriverTable, define } from '../driver-factory.js';
import { openstackConnection } from './openstack/connection-source.js';
import { OpenStackCloud } from './openstack/nova.js';
import { sharedSession } from './openstack/session.js';

export const simulatedCloudSchema = z.strictObject({
  driver: z.literal('simulated'),
  hosts: z._default(z.array(z.string()), ['compute-1', 'compute-2', 'compute-3']),
  /** Servers to create per host at start, for demos. */
  serversPerHost: z._default(z.int().check(z.minimum(0)), 4),
  evacuateMs: z._default(z.int().check(z.minimum(0)), 1500),
  serviceDownSeconds: z._default(z.positiveNumber(), 60),
  maxMicroversion: z._default(z.string(), '2.93'),
});

export const cloudDrivers: DriverTable<Cloud> = {
  openstack: define(
    z.strictObject({
      driver: z.literal('openstack'),
      /** Cloud name in clouds.yaml; OS_CLOUD or OS_* variables when omitted. */
      cloud: z.optional(z.string()),
      /** clouds.yaml content from {file}, {env} or {secret}, instead of the clouds.yaml search. */
      clouds: z.optional(secretRef),
      timeoutMs: z._default(z.positiveInt(), 30_000),
    }),
    async (options, context) =>
      new OpenStackCloud(
        sharedSession(await openstackConnection(options, context), { timeoutMs: options.timeoutMs }),
      ),
  ),
  simulated: define(simulatedCloudSchema, (_options, context) => {
    if (!context.simulated) {
      throw new WorkflowError(
        CONFIG_INVALID,
        'cloud.driver "simulated" runs only in the embedded engine (freezer-dr serve, recover)',
      );
    }
    return new OpenStackCloud(sharedSession(context.simulated.connection));
  }),
};
