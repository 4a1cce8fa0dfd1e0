// freezer-dr.yaml: one validated file picks every driver and sets the recovery policy.
// Driver sections are checked twice: here for the common shape, and by the chosen
// driver's own schema in its registry, so a typo fails at load, not mid-recovery.
import { readFileSync } from 'node:fs';
import { CONFIG_INVALID, WorkflowError } from './errors.js';
import { intakeConfigSchema } from './intake/config.js';
import { parseYaml } from './yaml.js';
import * as z from './zod.js';

/** The Task timeouts (TimeoutSeconds in the ASL, the functions' timeout in serverless.yml) the waits below must end inside. */
export const TASK_TIMEOUT_SECONDS = { VerifyPowerOff: 120, VerifyInstance: 90 } as const;
/** Left of a Task's time for the read in flight at the deadline and a cold start. */
export const TASK_MARGIN_SECONDS = 30;
/** Step Functions runs at most 40 iterations of an inline Map at once. */
export const MAP_MAX_CONCURRENCY = 40;

const driverSection = z.looseObject({ driver: z.string().check(z.minLength(1)) });

export const selectionPolicySchema = z.strictObject({
  /** all: every server on the host; ha-enabled: only servers with metadata key=true; tagged: flavor extra spec or image tag. */
  mode: z._default(z.enum(['all', 'ha-enabled', 'tagged']), 'all'),
  haEnabledKey: z._default(z.string(), 'HA_Enabled'),
  /** Flavor extra spec (or server tag) that marks an instance evacuable in `tagged` mode. */
  tag: z._default(z.string(), 'evacuable'),
  /** Server names matching any of these globs are never evacuated. */
  skipNames: z._default(z.array(z.string()), []),
  /** Leave instances in ERROR where they are. */
  ignoreErrorInstances: z._default(z.boolean(), false),
});

export const recoveryPolicySchema = z.strictObject({
  // State: ConfirmHostFailure. A recovery starts at the first down alert; the workflow then
  // waits (Wait states, durably) until Nova agrees. Nova's defaults: nova-compute reports
  // every report_interval (10 s) and Nova itself calls it down after service_down_time (60 s).
  confirm: z.prefault(
    z
      .strictObject({
        /**
         * Silence (by Nova's clock when it sends a Date header) after which the service counts
         * as down: 30 s is three missed reports at report_interval 10 s, half of service_down_time.
         */
        staleAfterSeconds: z._default(z.positiveInt(), 30),
        /**
         * How long the workflow waits for Nova to agree before the alert counts as a false
         * alarm (HostNotDown): service_down_time (60 s) plus three report intervals, so Nova's
         * own verdict always arrives within it.
         */
        windowSeconds: z._default(z.positiveInt().check(z.maximum(3600)), 90),
        /**
         * Nova's report_interval: how often a live nova-compute reports. The longest Wait
         * between two reads of a service that still reports, and, just before fencing, hosts
         * silent for 1.5 report intervals count as down in the fleet gates.
         */
        reportIntervalSeconds: z._default(z.positiveNumber().check(z.maximum(60)), 10),
        /** A service seen reporting this many times after the alert ends the wait: not down. */
        reportsUntilNotDown: z._default(z.positiveInt(), 2),
      })
      .check(
        z.refine((c) => c.staleAfterSeconds > c.reportIntervalSeconds * 1.5, {
          message: 'staleAfterSeconds must be more than 1.5 x reportIntervalSeconds, or live hosts look down',
          path: ['staleAfterSeconds'],
        }),
      ),
    {},
  ),
  fence: z.prefault(
    z.strictObject({
      /** How long to poll the power controller for 'off' after the off request; under VerifyPowerOff's timeout. */
      verifyTimeoutSeconds: z._default(
        z.positiveNumber().check(z.maximum(TASK_TIMEOUT_SECONDS.VerifyPowerOff - TASK_MARGIN_SECONDS)),
        30,
      ),
      pollIntervalMs: z._default(z.positiveInt(), 500),
    }),
    {},
  ),
  selection: z.prefault(selectionPolicySchema, {}),
  evacuation: z.prefault(
    z.strictObject({
      /** Map MaxConcurrency: evacuations in flight at once (EvacuateInstances, an inline Map). */
      maxConcurrency: z._default(z.int().check(z.minimum(1), z.maximum(MAP_MAX_CONCURRENCY)), 10),
      lockInstances: z._default(z.boolean(), true),
      /** Put an instance that was in ERROR before the failure back in ERROR after the rebuild. */
      restoreErrorState: z._default(z.boolean(), true),
      // The floor polls every 0.5 s too; every verification of a process shares each read (core/server-watch.ts).
      verifyPollMs: z._default(z.positiveInt(), 500),
      /** How long one VerifyInstance invocation polls before handing back to the workflow to wait durably; under its timeout. */
      verifyBudgetSeconds: z._default(
        z.positiveNumber().check(z.maximum(TASK_TIMEOUT_SECONDS.VerifyInstance - TASK_MARGIN_SECONDS)),
        40,
      ),
      /** An instance not settled after this long is reported failed. */
      timeoutSeconds: z._default(z.positiveNumber(), 600),
    }),
    {},
  ),
  placement: z.prefault(
    z.strictObject({
      /** spread: targets by free capacity and server groups; scheduler: Nova decides; reserved: spare hosts first. */
      method: z._default(z.enum(['spread', 'scheduler', 'reserved']), 'spread'),
      /** Hosts kept disabled as spares; with method `reserved` they are filled first (then spread). */
      reservedHosts: z._default(z.array(z.string()), []),
      /** Server metadata key with the restart priority: lower comes back first, in waves. */
      priorityKey: z._default(z.string(), 'ha:priority'),
    }),
    {},
  ),
  /** Link to an execution in a console, with {execution} replaced by the execution name. */
  executionUrlTemplate: z._default(z.nullable(z.string()), null),
});

/**
 * The host drain (statemachine/host-drain.asl.json): live migration off a degraded host that
 * still runs. Its triggers and gates live here too, beside the intake's.
 */
export const drainPolicySchema = z.strictObject({
  /**
   * Inner Map MaxConcurrency of MigrateInstances: live migrations in flight at once per drain.
   * Lower than evacuation's: each one copies a guest's memory over the network.
   */
  maxConcurrency: z._default(z.int().check(z.minimum(1), z.maximum(40)), 3),
  /**
   * State: WaitBeforeNextCheck. The drain reads Nova about once per pollSeconds: one migration's
   * waits grow from 1 s to pollSeconds × maxConcurrency (durable Waits, no function idles).
   */
  pollSeconds: z._default(z.positiveInt().check(z.maximum(300)), 5),
  /** An instance whose migration has not completed after this long is left where it is and reported. */
  timeoutSeconds: z._default(z.positiveInt().check(z.maximum(86_400)), 900),
  /** Cold-migrate SHUTOFF instances too (a stopped guest has nothing to live-migrate); off: they stay. */
  coldMigrateStopped: z._default(z.boolean(), false),
  /** Intake gate: drains running at once; a degraded alert beyond this is reported, not started. */
  maxRunning: z._default(z.positiveInt(), 1),
  /** What a degraded alert looks like, per source (a down alert is never a drain). */
  triggers: z.prefault(
    z.strictObject({
      /** Alertmanager alertnames that mean "degraded" (besides label or annotation freezer_dr_action: drain). */
      alertnames: z._default(z.array(z.string().check(z.minLength(1))), []),
      /** Nagios service checks whose WARNING or CRITICAL means "degraded" (service description). */
      nagiosServices: z._default(z.array(z.string().check(z.minLength(1))), []),
    }),
    {},
  ),
});

export const configSchema = z.strictObject({
  cloud: driverSection,
  fencer: driverSection,
  notifiers: z._default(z.array(driverSection), [{ driver: 'log' }]),
  alertSources: z._default(z.array(driverSection), []),
  /** freezer-dr's own monitors (the nova-services poll by default); [] turns them off. */
  monitors: z._default(z.array(driverSection), [{ driver: 'nova-services' }]),
  recovery: z.prefault(recoveryPolicySchema, {}),
  /** Draining a degraded host by live migration before it fails. */
  drain: z.prefault(drainPolicySchema, {}),
  /** The alert webhook: authentication, fleet, pause and mass-failure protection. */
  intake: z.prefault(intakeConfigSchema, {}),
  /** Where notify-once claims, start windows and webhook nonces live: `memory` (one process) or `dynamodb`. */
  state: z._default(driverSection, { driver: 'memory' }),
  /** Sections owned by other components (relay, local server); validated where used. */
  local: z.optional(z.record(z.string(), z.unknown())),
});

export type FreezerConfig = z.infer<typeof configSchema>;
export type RecoveryPolicy = z.infer<typeof recoveryPolicySchema>;
export type SelectionPolicy = z.infer<typeof selectionPolicySchema>;
export type DrainPolicy = z.infer<typeof drainPolicySchema>;

/** Formats zod issues as "path: message" lines, so an operator sees which field is wrong. */
export function describeIssues(error: {
  issues: readonly { path: readonly PropertyKey[]; message: string }[];
}): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.map(String).join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

export function parseConfig(raw: unknown, origin = 'config'): FreezerConfig {
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) {
    throw new WorkflowError(CONFIG_INVALID, `${origin} is invalid: ${describeIssues(result.error)}`);
  }
  return result.data;
}

export function loadConfigFile(path: string): FreezerConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new WorkflowError(CONFIG_INVALID, `cannot read config file ${path}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new WorkflowError(CONFIG_INVALID, `${path} is not valid YAML: ${(error as Error).message}`);
  }
  return parseConfig(raw, path);
}

/** Where the config lives: FREEZER_DR_CONFIG, else ./freezer-dr.yaml. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.FREEZER_DR_CONFIG ?? 'freezer-dr.yaml';
}
