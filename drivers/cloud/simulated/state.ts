// SIMULATED cloud state: an in-memory Nova (compute services, servers, evacuation
// migrations) and one BMC per host. It enforces the rules that matter for safety, as
// measured on a real Nova 26: evacuate answers 400 "Compute service of <host> is still
// in use." while the source service is up and not forced down; an instance passes
// through REBUILDING with a task state before it lands on another host. Live and cold
// migrations follow Nova 26.2.2's conductor and compute manager (see simulated/migrations.ts).
import { randomUUID } from 'node:crypto';
import type { GroupPolicy, PowerState } from '../../../core/ports.js';
import { resumeAwaitingSource, resumeMigration } from './migrations.js';

export type VmState = 'active' | 'stopped' | 'error' | 'building' | 'resized';

/** Fault injection for one server's live migration (the drain's failure modes). */
export type LiveMigrationFault =
  /** Fails on the way (rollback): record 'error', the instance stays ACTIVE on its source. */
  | 'fail'
  /** Never finishes: the record stays 'running', task_state 'migrating'. */
  | 'hang'
  /** Refused at the API with this answer (vTPM, accelerators, a local device, ...). */
  | { refuse: { status: 400 | 409; message: string } }
  /** Accepted, then refused by the conductor's pre-checks: record 'error' with this reason. */
  | { precheck: string };

export interface SimServer {
  id: string;
  name: string;
  projectId: string;
  userId: string;
  host: string;
  vmState: VmState;
  taskState: string | null;
  locked: boolean;
  lockedReason: string | null;
  metadata: Record<string, string>;
  flavorName: string;
  extraSpecs: Record<string, string>;
  imageId: string;
  tags: string[];
  vcpus: number;
  ramMb: number;
  diskGb: number;
  /** Fault injection: the rebuild on the destination fails. */
  failRebuild?: boolean;
  /** A second evacuate arrived during the rebuild: Nova lets them collide, the instance ends in ERROR. */
  rebuildCollided?: boolean;
  liveMigrationFault?: LiveMigrationFault;
  /** This server's live migration time (overrides options.liveMigrateMs). */
  liveMigrateMs?: number;
  /** vm_state before a cold migration, restored by confirmResize (power state kept). */
  resizedFrom?: 'active' | 'stopped';
  createdAt: string;
}

export type MigrationType = 'evacuation' | 'live-migration' | 'migration';

export interface SimMigration {
  id: number;
  /** Absent in snapshots from before live migration was simulated: 'evacuation'. */
  migrationType?: MigrationType;
  uuid: string;
  instanceId: string;
  sourceCompute: string;
  destCompute: string | null;
  status: string;
  createdAt: string;
  updatedAt: string | null;
  /**
   * What the evacuate request asked for, so a rebuild resumed by restore() lands where it
   * was sent and as it was asked: the requested host (null: the scheduler picks) and, from
   * microversion 2.95, an ACTIVE instance kept SHUTOFF. Not shown by the API.
   */
  requested?: { host: string | null; keepStopped: boolean };
  /** Why a live or cold migration went to 'error' (Nova keeps it in the instance action). */
  failureReason?: string;
  /** The conductor's pre-check is waiting on a dead source compute (live migration). */
  awaitingSource?: boolean;
}

export type BmcFault = 'none' | 'unreachable' | 'auth' | 'ignore-off' | 'fail-off' | { slowOffMs: number };

export interface SimHost {
  name: string;
  serviceId: string;
  /** nova-compute process running (it reports every reportIntervalMs while alive). */
  alive: boolean;
  lastReport: number;
  status: 'enabled' | 'disabled';
  disabledReason: string | null;
  forcedDown: boolean;
  power: 'on' | 'off';
  bmcFault: BmcFault;
  zone: string;
  /** Overrides the default host size (options.hostVcpus/hostRamMb/hostDiskGb). */
  capacity?: { vcpus: number; ramMb: number; diskGb: number };
}

export interface SimServerGroup {
  id: string;
  name: string;
  policy: GroupPolicy;
  members: string[];
}

export interface SimOptions {
  hosts?: string[];
  /** Evacuation time: POST accepted -> instance settled on the destination. */
  evacuateMs?: number;
  /** Nova's service_down_time (default 60 s) in ms. */
  serviceDownMs?: number;
  reportIntervalMs?: number;
  maxMicroversion?: string;
  /** Added to every API request. */
  latencyMs?: number;
  tokenTtlMs?: number;
  /** Leaves an instance in REBUILD/rebuilding, its migration accepted, until released (tests of slow rebuilds). */
  holdRebuilds?: boolean;
  /** Hypervisor size reported by /os-hypervisors (every simulated server is 1 vCPU, 512 MB, 1 GB). */
  hostVcpus?: number;
  hostRamMb?: number;
  hostDiskGb?: number;
  /** Nova's clock minus ours: updated_at and the Date header are on Nova's clock. */
  clockSkewMs?: number;
  /** Live migration time: os-migrateLive accepted -> record 'completed' (per server: liveMigrateMs). */
  liveMigrateMs?: number;
  /** Cold migration time: migrate accepted -> VERIFY_RESIZE. */
  coldMigrateMs?: number;
  /** Nova's rpc_response_timeout (default 60 s) in ms: how long a call to a dead compute waits. */
  rpcTimeoutMs?: number;
}

export interface SimCounters {
  evacuateAccepted: Map<string, number>;
  evacuateRejected: number;
  requests: number;
  tokensIssued: number;
  powerOffCalls: Map<string, number>;
  serviceUpdates: number;
  /** os-migrateLive calls accepted (202) per server. */
  liveMigrateAccepted: Map<string, number>;
  /** migrate (cold) calls accepted per server. */
  coldMigrateAccepted: Map<string, number>;
}

/** Everything a restarted simulated cloud needs to carry on where it stopped (JSON-safe). */
export interface SimSnapshot {
  version: 1;
  hosts: SimHost[];
  servers: SimServer[];
  migrations: SimMigration[];
  nextMigrationId: number;
  counters: Omit<SimCounters, MapCounter> & { [K in MapCounter]: [string, number][] };
  unsafeEvacuations: number;
  evacuatedWhileMigrating?: number;
}

type MapCounter = 'evacuateAccepted' | 'powerOffCalls' | 'liveMigrateAccepted' | 'coldMigrateAccepted';
const MAP_COUNTERS: MapCounter[] = [
  'evacuateAccepted',
  'powerOffCalls',
  'liveMigrateAccepted',
  'coldMigrateAccepted',
];

export class SimulatedCloudState {
  readonly hosts = new Map<string, SimHost>();
  readonly servers = new Map<string, SimServer>();
  readonly migrations: SimMigration[] = [];
  readonly serverGroups = new Map<string, SimServerGroup>();
  readonly options: Required<SimOptions>;
  readonly counters: SimCounters = {
    evacuateAccepted: new Map(),
    evacuateRejected: 0,
    requests: 0,
    tokensIssued: 0,
    powerOffCalls: new Map(),
    serviceUpdates: 0,
    liveMigrateAccepted: new Map(),
    coldMigrateAccepted: new Map(),
  };
  /** Evacuations accepted while the source host's power was not verified off (must stay 0). */
  unsafeEvacuations = 0;
  /**
   * Evacuations accepted while the instance's live migration was in flight (must stay 0):
   * Nova 26 accepts them (evacuate checks no task state), and the instance may then be both.
   */
  evacuatedWhileMigrating = 0;
  private nextMigrationId = 1;
  private timers = new Set<NodeJS.Timeout>();
  private held = new Map<string, () => void>();
  /** Called after every change of the cloud's state (the local server persists it from here). */
  onChange: (() => void) | null = null;

  constructor(options: SimOptions = {}) {
    this.options = {
      hosts: options.hosts ?? ['compute-1', 'compute-2', 'compute-3'],
      evacuateMs: options.evacuateMs ?? 300,
      serviceDownMs: options.serviceDownMs ?? 60_000,
      reportIntervalMs: options.reportIntervalMs ?? 10_000,
      maxMicroversion: options.maxMicroversion ?? '2.93',
      latencyMs: options.latencyMs ?? 0,
      tokenTtlMs: options.tokenTtlMs ?? 3_600_000,
      holdRebuilds: options.holdRebuilds ?? false,
      clockSkewMs: options.clockSkewMs ?? 0,
      hostVcpus: options.hostVcpus ?? 16,
      hostRamMb: options.hostRamMb ?? 32_768,
      hostDiskGb: options.hostDiskGb ?? 200,
      liveMigrateMs: options.liveMigrateMs ?? 300,
      coldMigrateMs: options.coldMigrateMs ?? 300,
      rpcTimeoutMs: options.rpcTimeoutMs ?? 60_000,
    };
    for (const name of this.options.hosts) this.addHost(name);
  }

  addHost(name: string, zone = 'nova'): SimHost {
    const host: SimHost = {
      name,
      serviceId: randomUUID(),
      alive: true,
      lastReport: this.novaNow(),
      status: 'enabled',
      disabledReason: null,
      forcedDown: false,
      power: 'on',
      bmcFault: 'none',
      zone,
    };
    this.hosts.set(name, host);
    return host;
  }

  addServerGroup(
    policy: SimServerGroup['policy'],
    members: string[],
    name = `group-${this.serverGroups.size + 1}`,
  ): SimServerGroup {
    const group: SimServerGroup = { id: randomUUID(), name, policy, members };
    this.serverGroups.set(group.id, group);
    return group;
  }

  /** A host's size and what its servers use (FakeDriver-like accounting). */
  usage(name: string) {
    const host = this.host(name);
    const capacity = host.capacity ?? {
      vcpus: this.options.hostVcpus,
      ramMb: this.options.hostRamMb,
      diskGb: this.options.hostDiskGb,
    };
    const used = { vcpus: 0, ramMb: 0, diskGb: 0 };
    let count = 0;
    for (const s of this.servers.values()) {
      if (s.host !== name) continue;
      count += 1;
      used.vcpus += s.vcpus;
      used.ramMb += s.ramMb;
      used.diskGb += s.diskGb;
    }
    return { capacity, used, count };
  }

  host(name: string): SimHost {
    const host = this.hosts.get(name);
    if (!host) throw new Error(`simulated cloud has no host ${name}`);
    return host;
  }

  /** Nova's time now (its clock may be skewed from ours). */
  novaNow(): number {
    return Date.now() + this.options.clockSkewMs;
  }

  /** Time of the service's last report, as Nova's updated_at shows it (Nova's clock). */
  reportedAt(host: SimHost): number {
    if (!host.alive) return host.lastReport;
    const interval = this.options.reportIntervalMs;
    return Math.max(host.lastReport, Math.floor(this.novaNow() / interval) * interval);
  }

  serviceState(host: SimHost): 'up' | 'down' {
    if (host.forcedDown) return 'down';
    return this.novaNow() - this.reportedAt(host) > this.options.serviceDownMs ? 'down' : 'up';
  }

  /** The host's nova-compute dies (power stays on): what a failure looks like from outside. */
  killCompute(name: string, options: { reportedAgoMs?: number } = {}): void {
    const host = this.host(name);
    host.lastReport = this.reportedAt(host) - (options.reportedAgoMs ?? 0);
    host.alive = false;
    this.changed();
  }

  /** nova-compute starts again: it cleans up evacuated guests, so `done` evacuations become `completed`. */
  startCompute(name: string): void {
    const host = this.host(name);
    host.alive = true;
    host.lastReport = this.novaNow();
    for (const migration of this.migrations) {
      if (migration.sourceCompute === name && migration.status === 'done') {
        migration.status = 'completed';
        migration.updatedAt = new Date().toISOString();
      }
      // init_host's _reset_live_migration: a live migration the restart interrupted is
      // 'error', and an instance still here in task_state 'migrating' gets its task cleared.
      const server = this.servers.get(migration.instanceId);
      if (
        migration.sourceCompute === name &&
        migration.migrationType === 'live-migration' &&
        migration.status === 'running' &&
        server?.host === name &&
        server.taskState === 'migrating'
      ) {
        migration.status = 'error';
        migration.updatedAt = new Date().toISOString();
        server.taskState = null;
      }
    }
    resumeAwaitingSource(this, name);
    this.changed();
  }

  addServer(partial: Partial<SimServer> & { host: string }): SimServer {
    const server: SimServer = {
      id: partial.id ?? randomUUID(),
      name: partial.name ?? `vm-${this.servers.size + 1}`,
      projectId: partial.projectId ?? 'project-a',
      userId: partial.userId ?? 'user-a',
      host: partial.host,
      vmState: partial.vmState ?? 'active',
      taskState: partial.taskState ?? null,
      locked: partial.locked ?? false,
      lockedReason: partial.lockedReason ?? null,
      metadata: partial.metadata ?? {},
      flavorName: partial.flavorName ?? 'm1.tiny',
      extraSpecs: partial.extraSpecs ?? {},
      imageId: partial.imageId ?? 'image-cirros',
      vcpus: partial.vcpus ?? 1,
      ramMb: partial.ramMb ?? 512,
      diskGb: partial.diskGb ?? 1,
      tags: partial.tags ?? [],
      createdAt: new Date().toISOString(),
      ...(partial.failRebuild ? { failRebuild: true } : {}),
      ...(partial.liveMigrationFault ? { liveMigrationFault: partial.liveMigrationFault } : {}),
      ...(partial.liveMigrateMs !== undefined ? { liveMigrateMs: partial.liveMigrateMs } : {}),
    };
    this.servers.set(server.id, server);
    this.changed();
    return server;
  }

  /** Nova's scheduler, as seen on the lab: the emptiest up and enabled host, blind to in-flight claims. */
  schedule(exclude: string): string | null {
    let best: string | null = null;
    let bestCount = Number.POSITIVE_INFINITY;
    for (const host of this.hosts.values()) {
      if (host.name === exclude || host.status !== 'enabled' || this.serviceState(host) !== 'up') continue;
      const count = [...this.servers.values()].filter((s) => s.host === host.name).length;
      if (count < bestCount) {
        best = host.name;
        bestCount = count;
      }
    }
    return best;
  }

  later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
      this.changed();
    }, ms);
    this.timers.add(timer);
  }

  /** Starts the rebuild of an accepted evacuation; completes after evacuateMs. */
  runEvacuation(
    server: SimServer,
    migration: SimMigration,
    target: string | null,
    keepStopped: boolean,
  ): void {
    migration.requested = { host: target, keepStopped };
    const finish = () => {
      // A requested host still goes through the scheduler's filters: disabled or down -> NoValidHost.
      const usable = (name: string) => {
        const h = this.hosts.get(name);
        return h !== undefined && h.status === 'enabled' && this.serviceState(h) === 'up';
      };
      const dest = target ? (usable(target) ? target : null) : this.schedule(migration.sourceCompute);
      const now = new Date().toISOString();
      migration.updatedAt = now;
      if (!dest) {
        migration.status = 'error';
        server.taskState = null;
        return;
      }
      migration.destCompute = dest;
      server.host = dest;
      server.taskState = null;
      if (server.failRebuild) {
        server.vmState = 'error';
        migration.status = 'failed';
        return;
      }
      if (server.rebuildCollided) {
        server.rebuildCollided = false;
        server.vmState = 'error';
        migration.status = 'done';
        return;
      }
      if (server.vmState === 'error') server.vmState = 'active';
      if (keepStopped && server.vmState === 'active') server.vmState = 'stopped';
      migration.status = 'done';
    };
    // Held: the rebuild stays exactly as accepted (REBUILD/rebuilding) until released, with
    // no timer to race a slow test; otherwise it reaches its midway mark, then lands.
    if (this.options.holdRebuilds) {
      this.held.set(server.id, finish);
      return;
    }
    this.later(Math.floor(this.options.evacuateMs / 2), () => {
      if (server.taskState === 'rebuilding') server.taskState = 'rebuild_spawning';
      // Only while still in flight: a rebuild settled early (restored, released) stays settled.
      if (migration.status === 'accepted') migration.status = 'running';
    });
    this.later(this.options.evacuateMs, finish);
  }

  /** Completes every held rebuild (holdRebuilds mode). */
  releaseRebuilds(): void {
    for (const finish of this.held.values()) finish();
    this.held.clear();
    this.changed();
  }

  newMigration(server: SimServer, type: MigrationType = 'evacuation', status = 'accepted'): SimMigration {
    const migration: SimMigration = {
      id: this.nextMigrationId++,
      uuid: randomUUID(),
      migrationType: type,
      instanceId: server.id,
      sourceCompute: server.host,
      destCompute: null,
      status,
      createdAt: new Date().toISOString(),
      updatedAt: null,
    };
    this.migrations.push(migration);
    return migration;
  }

  // ---- BMC side -------------------------------------------------------------------

  powerStatus(name: string): PowerState {
    const host = this.host(name);
    return host.power;
  }

  /** Power the host off: its nova-compute dies with it. Honors injected BMC faults. */
  async powerOff(name: string): Promise<void> {
    const host = this.host(name);
    this.counters.powerOffCalls.set(name, (this.counters.powerOffCalls.get(name) ?? 0) + 1);
    const fault = host.bmcFault;
    if (fault === 'ignore-off') return;
    if (fault === 'fail-off')
      throw new Error('Set Chassis Power Control to Down/Off failed: Unspecified error');
    const off = () => {
      host.power = 'off';
      if (host.alive) this.killCompute(name);
    };
    if (typeof fault === 'object') this.later(fault.slowOffMs, off);
    else off();
    this.changed();
  }

  powerOn(name: string): void {
    const host = this.host(name);
    host.power = 'on';
    this.startCompute(name);
  }

  changed(): void {
    this.onChange?.();
  }

  snapshot(): SimSnapshot {
    const counters = { ...this.counters } as Record<string, unknown>;
    for (const key of MAP_COUNTERS) counters[key] = [...this.counters[key]];
    return {
      version: 1,
      hosts: [...this.hosts.values()],
      servers: [...this.servers.values()],
      migrations: this.migrations,
      nextMigrationId: this.nextMigrationId,
      counters: counters as SimSnapshot['counters'],
      unsafeEvacuations: this.unsafeEvacuations,
      evacuatedWhileMigrating: this.evacuatedWhileMigrating,
    };
  }

  /**
   * Replaces the whole state by a snapshot. Rebuilds that were under way go on (a real
   * destination compute would not have stopped because freezer-dr did), to the host and
   * with the power state their evacuate request asked for.
   */
  restore(snapshot: SimSnapshot): void {
    this.close();
    this.hosts.clear();
    for (const host of snapshot.hosts) this.hosts.set(host.name, host);
    this.servers.clear();
    for (const server of snapshot.servers) this.servers.set(server.id, server);
    this.migrations.splice(0, this.migrations.length, ...snapshot.migrations);
    this.nextMigrationId = snapshot.nextMigrationId;
    const counters: Record<string, unknown> = { ...snapshot.counters };
    for (const key of MAP_COUNTERS) counters[key] = new Map(snapshot.counters[key] ?? []);
    Object.assign(this.counters, counters);
    this.unsafeEvacuations = snapshot.unsafeEvacuations;
    this.evacuatedWhileMigrating = snapshot.evacuatedWhileMigrating ?? 0;
    for (const migration of this.migrations) {
      const server = this.servers.get(migration.instanceId);
      if ((migration.migrationType ?? 'evacuation') !== 'evacuation') {
        // A live or cold migration under way goes on where it stands.
        if (server) resumeMigration(this, server, migration);
        continue;
      }
      if (server?.taskState && ['accepted', 'running'].includes(migration.status)) {
        // A snapshot from before `requested` was recorded: the scheduler picks, as then.
        const { host, keepStopped } = migration.requested ?? { host: null, keepStopped: false };
        this.runEvacuation(server, migration, host, keepStopped);
      }
    }
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.held.clear();
  }
}
