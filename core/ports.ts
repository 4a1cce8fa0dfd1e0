// The ports core calls: what a fencer, a cloud, a notifier, an alert source and a monitor
// must do. core owns them and never imports an implementation; the drivers implement them
// and are chosen from the validated freezer-dr.yaml at the edge (the CLI, the engine, each
// function), so the workflow only ever talks to these interfaces.

export type PowerState = 'on' | 'off' | 'unknown';

/** Powers failed hosts off. Implementations must never report 'off' unless the power controller says so. */
export interface Fencer {
  readonly kind: string;
  /** True when the driver does not control power at all (operator fences by other means). */
  readonly recordOnly: boolean;
  /** What controls this host's power, for reports and logs (never a secret). */
  describe(host: string): string;
  powerStatus(host: string): Promise<PowerState>;
  powerOff(host: string): Promise<void>;
  powerOn(host: string): Promise<void>;
}

/** One host's status read, as a fencer with an inventory reports it (the fence drill). */
export interface DrillProbe {
  host: string;
  controller: string;
  state: PowerState | null;
  /** Failure class (auth-failed, unreachable, ...) or null when the read worked. */
  failure: string | null;
  message: string | null;
  ms: number;
}

/** Implemented by fencers that know their own inventory (the relay fencers). */
export interface InventoryDrill {
  drillInventory(): Promise<DrillProbe[]>;
}

export interface ComputeService {
  id: string;
  host: string;
  binary: string;
  zone: string | null;
  status: 'enabled' | 'disabled';
  state: 'up' | 'down';
  updatedAt: string | null;
  disabledReason: string | null;
  forcedDown: boolean;
}

export interface ServiceChange {
  status?: 'enabled' | 'disabled';
  disabledReason?: string;
  forcedDown?: boolean;
}

export interface Server {
  id: string;
  name: string;
  projectId: string;
  userId: string;
  /** Compute host (admin-only attribute OS-EXT-SRV-ATTR:host). */
  host: string | null;
  /** API status: ACTIVE, SHUTOFF, ERROR, REBUILD, ... */
  status: string;
  vmState: string | null;
  taskState: string | null;
  locked: boolean;
  /** Why it is locked (Nova 2.73 and later); undefined where the driver cannot tell. */
  lockedReason?: string | null;
  metadata: Record<string, string>;
  flavor: {
    id: string | null;
    name: string | null;
    extraSpecs: Record<string, string>;
    /** Size, when Nova embeds it (microversion 2.47 and later). */
    vcpus?: number | null;
    ramMb?: number | null;
    diskGb?: number | null;
  };
  imageId: string | null;
  tags: string[];
  availabilityZone: string | null;
}

export interface Migration {
  id: string;
  instanceId: string;
  sourceCompute: string | null;
  destCompute: string | null;
  status: string;
  migrationType: string;
  createdAt: string;
  updatedAt: string | null;
}

export interface CloudCapabilities {
  /** Microversion used for calls that need the newest behaviour, e.g. "2.93". */
  microversion: string;
  /** From 2.95 an evacuated instance stays SHUTOFF at the destination. */
  evacuateKeepsStopped: boolean;
}

/** One hypervisor's size and use, as Nova's /os-hypervisors/detail reports it (up to microversion 2.87). */
export interface HypervisorStats {
  host: string;
  state: 'up' | 'down';
  status: 'enabled' | 'disabled';
  vcpus: number;
  vcpusUsed: number;
  memoryMb: number;
  memoryMbUsed: number;
  localGb: number;
  localGbUsed: number;
  runningVms: number;
}

/** Nova's server group policies (the one list; the planner and the simulated cloud use it). */
export const GROUP_POLICIES = ['affinity', 'anti-affinity', 'soft-affinity', 'soft-anti-affinity'] as const;
export type GroupPolicy = (typeof GROUP_POLICIES)[number];

export interface ServerGroup {
  id: string;
  name: string;
  policy: GroupPolicy;
  members: string[];
}

/** The cloud the instances live in: compute services, servers and the evacuate API. */
export interface Cloud {
  readonly kind: string;
  capabilities(): Promise<CloudCapabilities>;
  listComputeServices(filter?: { host?: string }): Promise<ComputeService[]>;
  /**
   * Nova's time now, read from its answers' Date header, or null when Nova sends none:
   * a service's updated_at is Nova's time, so its age is measured on Nova's clock.
   */
  novaNow?(): number | null;
  updateComputeService(id: string, change: ServiceChange): Promise<ComputeService>;
  /** Every server on the host, across all projects, following pagination. */
  listServersOnHost(host: string): Promise<Server[]>;
  /** undefined when the server no longer exists. */
  getServer(id: string): Promise<Server | undefined>;
  evacuate(id: string, options?: { host?: string }): Promise<void>;
  listEvacuations(filter: { instanceId?: string; sourceCompute?: string }): Promise<Migration[]>;
  lockServer(id: string, reason: string): Promise<void>;
  unlockServer(id: string): Promise<void>;
  resetState(id: string, state: 'active' | 'error'): Promise<void>;
  startServer(id: string): Promise<void>;
  /** Hypervisor capacity, for dry-run plans; absent where the driver cannot read it. */
  listHypervisors?(): Promise<HypervisorStats[]>;
  /** Server groups of every project, for target planning; absent where the driver cannot read them. */
  listServerGroups?(): Promise<ServerGroup[]>;
  // The drain's calls (issue 16); absent where the driver cannot move a running server.
  /** Live-migrates a server (os-migrateLive); Nova's scheduler picks the target unless `host` is given. */
  liveMigrate?(id: string, options?: { host?: string }): Promise<void>;
  /** Cold-migrates a stopped server (migrate); confirmResize ends it once it reads VERIFY_RESIZE. */
  coldMigrate?(id: string, options?: { host?: string }): Promise<void>;
  confirmResize?(id: string): Promise<void>;
  /** Migration records of every type ('live-migration', 'migration', 'evacuation'), newest first. */
  listMigrations?(filter: {
    instanceId?: string;
    sourceCompute?: string;
    migrationType?: string;
  }): Promise<Migration[]>;
}

/** Every kind of report notifiers receive (the one list schemas take their enum from). */
export const NOTIFICATION_KINDS = [
  'recovery',
  'fencing-failed',
  'recovery-failed',
  'not-confirmed',
  'mass-failure',
  'paused',
  'capacity-shortfall',
  // The host drain (statemachine/host-drain.asl.json): a planned live migration, no reboot.
  'drain',
  /** A drain not started: the hosts left lack the capacity, or its gates refused it. */
  'drain-refused',
  /** A drain stopped by an error (the instances not moved stay where they are, running). */
  'drain-failed',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/**
 * How an instance's recovery ended (VerifyInstance's outcome; reports, timelines and counts read it);
 * migrated / not-migrated are the drain's (a live migration, or the instance left running where it was).
 */
export const INSTANCE_OUTCOMES = [
  'recovered',
  'already-recovered',
  'failed',
  'gone',
  'migrated',
  'not-migrated',
] as const;
export type InstanceOutcomeKind = (typeof INSTANCE_OUTCOMES)[number];

export interface InstanceReport {
  id: string;
  name: string;
  projectId: string | null;
  outcome: InstanceOutcomeKind;
  fromHost: string;
  toHost: string | null;
  priorStatus: string | null;
  finalStatus: string | null;
  seconds: number | null;
  reason: string | null;
}

export interface StageReport {
  stage: string;
  at: string;
  detail: string;
}

/** Everything a notifier needs to tell admins and tenants what happened. */
export interface RecoveryReport {
  kind: NotificationKind;
  host: string;
  incident: string;
  executionName: string | null;
  executionUrl: string | null;
  /** Why the recovery started (the alert), or why it stopped. */
  cause: string;
  fence: { method: string; controller: string; verified: boolean; detail: string } | null;
  timeline: StageReport[];
  instances: InstanceReport[];
  counts: { selected: number; recovered: number; failed: number; skipped: number };
  startedAt: string;
  finishedAt: string;
}

export interface NotifierResult {
  notifier: string;
  ok: boolean;
  attempts: number;
  error: string | null;
}

export interface NotifyOptions {
  /** Aborted when the caller stops waiting (attempt timeout, delivery deadline): stop sending. */
  signal?: AbortSignal;
}

export interface Notifier {
  readonly name: string;
  notify(report: RecoveryReport, options?: NotifyOptions): Promise<void>;
}

/**
 * The independent witnesses a recovery may rest on: a monitor's alert, Nova's own verdict
 * (service `down` after service_down_time), Nova's silence read by freezer-dr (the service
 * has not reported for recovery.confirm.staleAfterSeconds), or an operator's command.
 */
export const CHANNELS = ['alert', 'nova-down', 'nova-stale', 'operator'] as const;
export type ChannelName = (typeof CHANNELS)[number];

/** One witness of a host failure: which channel, through which source, when, and what it saw. */
export interface Channel {
  channel: ChannelName;
  source: string;
  at: string;
  detail: string;
}

/** A host-down (or recovered) signal normalised from one monitoring system's payload. */
export interface AlertSignal {
  source: string;
  host: string;
  /** 'down' starts a recovery; 'degraded' a drain (drain.triggers); 'up' and 'ignored' are recorded only. */
  state: 'down' | 'degraded' | 'up' | 'ignored';
  reason: string;
  fingerprint: string | null;
  /** What kind of witness sent it: a monitor's alert unless said otherwise (the nova-services poll). */
  channel?: ChannelName;
}

/** freezer-dr's own monitor: read on a schedule, each signal goes through the intake like an alert. */
export interface Monitor {
  readonly name: string;
  /** How often `npm start` polls it (AWS runs it on its own schedule). */
  readonly intervalSeconds: number;
  poll(cloud: Cloud): Promise<AlertSignal[]>;
}

export interface AlertSource {
  readonly name: string;
  /** Whether this source recognises the body (content type already parsed). */
  matches(body: unknown): boolean;
  parse(body: unknown): AlertSignal[];
}
