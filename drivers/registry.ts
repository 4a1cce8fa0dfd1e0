// Picks driver implementations from the validated config. Each driver validates its
// own section with zod, so a misspelt option fails `check-config`, not a recovery.
import type { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { describeIssues, type FreezerConfig } from '../core/config.js';
import { CONFIG_INVALID, WorkflowError } from '../core/errors.js';
import { AlertmanagerSource, alertmanagerOptions } from './alert-source/alertmanager.js';
import { GenericSource, genericOptions } from './alert-source/generic.js';
import { NagiosSource, nagiosOptions } from './alert-source/nagios.js';
import { ZabbixSource, zabbixOptions } from './alert-source/zabbix.js';
import { connectionFromCloudsYaml, resolveConnection } from './cloud/openstack/credentials.js';
import { OpenStackCloud } from './cloud/openstack/nova.js';
import { type SimulatedCloud, startSimulatedCloud } from './cloud/simulated/server.js';
import { RecordOnlyFencer } from './fencer/noop.js';
import { createRelayFencer, relayFencerSchema } from './fencer/relay-options.js';
import { SimulatedFencer } from './fencer/simulated.js';
import {
  SlackNotifier,
  slackNotifierSchema,
  WebhookNotifier,
  webhookNotifierSchema,
} from './notifier/chat.js';
import { createEmailNotifier, emailNotifierSchema } from './notifier/email.js';
import { LogNotifier } from './notifier/log.js';
import type { AlertSource, Cloud, Fencer, Notifier } from './types.js';

/** What a driver factory may use besides its own options. */
export interface DriverContext {
  logger: Logger;
  /** Present when the cloud driver is `simulated`: the in-process simulated cloud. */
  simulated: SimulatedCloud | null;
  env: NodeJS.ProcessEnv;
}

export interface DriverFactory<T, S extends z.ZodType = z.ZodType> {
  schema: S;
  create(options: z.infer<S>, context: DriverContext): T | Promise<T>;
}

const define = <T, S extends z.ZodType>(
  schema: S,
  create: DriverFactory<T, S>['create'],
): DriverFactory<T, S> => ({
  schema,
  create,
});

const simulatedCloudSchema = z.strictObject({
  driver: z.literal('simulated'),
  hosts: z.array(z.string()).default(['compute-1', 'compute-2', 'compute-3']),
  /** Servers to create per host at start, for demos. */
  serversPerHost: z.number().int().min(0).default(4),
  evacuateMs: z.number().int().min(0).default(1500),
  serviceDownSeconds: z.number().positive().default(60),
  maxMicroversion: z.string().default('2.93'),
});

export const cloudDrivers: Record<string, DriverFactory<Cloud>> = {
  openstack: define(
    z.strictObject({
      driver: z.literal('openstack'),
      /** Cloud name in clouds.yaml; OS_CLOUD or OS_* variables when omitted. */
      cloud: z.string().optional(),
      /** clouds.yaml content (e.g. from Secrets Manager) instead of a file. */
      cloudsYaml: z.string().optional(),
      timeoutMs: z.number().int().positive().default(30_000),
    }),
    (options, context) => {
      const connection = options.cloudsYaml
        ? connectionFromCloudsYaml(options.cloudsYaml, options.cloud ?? context.env.OS_CLOUD ?? 'default')
        : resolveConnection({ ...(options.cloud ? { cloud: options.cloud } : {}) }, context.env);
      return new OpenStackCloud(connection, { timeoutMs: options.timeoutMs });
    },
  ),
  simulated: define(simulatedCloudSchema, (_options, context) => {
    if (!context.simulated) throw new WorkflowError(CONFIG_INVALID, 'simulated cloud was not started');
    return new OpenStackCloud(context.simulated.connection);
  }),
};

export const fencerDrivers: Record<string, DriverFactory<Fencer>> = {
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
    createRelayFencer('ipmi-relay', 'ipmi', options, context.env),
  ),
  /** Redfish ComputerSystem.Reset ForceOff through the relay. */
  'redfish-relay': define(relayFencerSchema('redfish-relay'), (options, context) =>
    createRelayFencer('redfish-relay', 'redfish', options, context.env),
  ),
  /** virsh destroy through the relay, for lab clouds whose compute nodes are VMs. */
  'libvirt-relay': define(relayFencerSchema('libvirt-relay'), (options, context) =>
    createRelayFencer('libvirt-relay', 'libvirt', options, context.env),
  ),
};

export const notifierDrivers: Record<string, DriverFactory<Notifier>> = {
  log: define(
    z.strictObject({ driver: z.literal('log') }),
    (_options, context) => new LogNotifier(context.logger),
  ),
  /** SMTP: one message to the admins, one per affected project (addresses from Keystone). */
  email: define(emailNotifierSchema, (options, context) => createEmailNotifier(options, context)),
  /** Slack-compatible incoming webhook (text + blocks). */
  slack: define(slackNotifierSchema, (options, context) => new SlackNotifier(options, { env: context.env })),
  /** Generic JSON webhook: the report plus the rendered summary. */
  webhook: define(
    webhookNotifierSchema,
    (options, context) => new WebhookNotifier(options, { env: context.env }),
  ),
};

/** Webhook payload formats; the order of `alertSources` is the order bodies are matched in. */
export const alertSourceDrivers: Record<string, DriverFactory<AlertSource>> = {
  alertmanager: define(alertmanagerOptions, (options) => new AlertmanagerSource(options)),
  zabbix: define(zabbixOptions, () => new ZabbixSource()),
  nagios: define(nagiosOptions, () => new NagiosSource()),
  generic: define(genericOptions, () => new GenericSource()),
};

function validate<T>(
  kind: string,
  table: Record<string, DriverFactory<T>>,
  section: { driver: string },
): { factory: DriverFactory<T>; options: unknown } {
  const factory = table[section.driver];
  if (!factory) {
    throw new WorkflowError(
      CONFIG_INVALID,
      `${kind}.driver "${section.driver}" is unknown; choose one of: ${Object.keys(table).join(', ')}`,
    );
  }
  const parsed = factory.schema.safeParse(section);
  if (!parsed.success) {
    throw new WorkflowError(CONFIG_INVALID, `${kind} (${section.driver}): ${describeIssues(parsed.error)}`);
  }
  return { factory, options: parsed.data };
}

/** Validates every driver section without creating anything (for check-config). */
export function validateDriverSections(config: FreezerConfig): void {
  validate('cloud', cloudDrivers, config.cloud);
  validate('fencer', fencerDrivers, config.fencer);
  config.notifiers.forEach((section, index) => {
    validate(`notifiers[${index}]`, notifierDrivers, section);
  });
  config.alertSources.forEach((section, index) => {
    validate(`alertSources[${index}]`, alertSourceDrivers, section);
  });
}

/** The webhook's payload parsers; every format with its defaults when the list is empty. */
export function createAlertSources(sections: { driver: string }[]): AlertSource[] {
  const chosen = sections.length ? sections : Object.keys(alertSourceDrivers).map((driver) => ({ driver }));
  return chosen.map((section, index) => {
    const { factory, options } = validate(`alertSources[${index}]`, alertSourceDrivers, section);
    return factory.create(options, {} as DriverContext) as AlertSource;
  });
}

export interface Drivers {
  cloud: Cloud;
  fencer: Fencer;
  notifiers: Notifier[];
  simulated: SimulatedCloud | null;
}

/** Builds the drivers; starts the in-process simulated cloud when the config asks for it. */
export async function createDrivers(
  config: FreezerConfig,
  context: { logger: Logger; env?: NodeJS.ProcessEnv; simulated?: SimulatedCloud | null },
): Promise<Drivers> {
  validateDriverSections(config);
  let simulated = context.simulated ?? null;
  if (config.cloud.driver === 'simulated' && !simulated) {
    const options = simulatedCloudSchema.parse(config.cloud);
    simulated = await startSimulatedCloud({
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
  }
  const driverContext: DriverContext = { logger: context.logger, simulated, env: context.env ?? process.env };
  const build = async <T>(
    kind: string,
    table: Record<string, DriverFactory<T>>,
    section: { driver: string },
  ) => {
    const { factory, options } = validate(kind, table, section);
    return factory.create(options, driverContext);
  };
  return {
    cloud: await build('cloud', cloudDrivers, config.cloud),
    fencer: await build('fencer', fencerDrivers, config.fencer),
    notifiers: await Promise.all(
      config.notifiers.map((section, i) => build(`notifiers[${i}]`, notifierDrivers, section)),
    ),
    simulated,
  };
}
