// The OpenStack cloud driver: Nova through a Keystone session, with the microversion
// each call needs, negotiated against the maximum the compute endpoint advertises.
import { CLOUD_REJECTED, CloudError } from '../../../core/errors.js';
import type {
  Cloud,
  CloudCapabilities,
  ComputeService,
  HypervisorStats,
  Migration,
  Server,
  ServerGroup,
  ServiceChange,
} from '../../../core/ports.js';
import type { Connection } from './credentials.js';
import { atLeast, minMicroversion } from './microversion.js';
import { KeystoneSession } from './session.js';

/** Newest microversion whose behaviour this driver knows; never ask for more. */
export const NEWEST_KNOWN = '2.95';
const PAGE_SIZE = 200;

type Json = Record<string, unknown>;
const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const num = (value: unknown): number | null => (typeof value === 'number' ? value : null);

export function toServer(raw: Json): Server {
  const flavor = (raw.flavor ?? {}) as Json;
  const image = raw.image as Json | string | undefined;
  return {
    id: String(raw.id),
    name: String(raw.name ?? ''),
    projectId: String(raw.tenant_id ?? raw.project_id ?? ''),
    userId: String(raw.user_id ?? ''),
    host: str(raw['OS-EXT-SRV-ATTR:host']),
    status: String(raw.status ?? 'UNKNOWN'),
    vmState: str(raw['OS-EXT-STS:vm_state']),
    taskState: str(raw['OS-EXT-STS:task_state']),
    locked: raw.locked === true,
    lockedReason: str(raw.locked_reason),
    metadata: (raw.metadata ?? {}) as Record<string, string>,
    flavor: {
      id: str(flavor.id),
      name: str(flavor.original_name) ?? str(flavor.name),
      extraSpecs: (flavor.extra_specs ?? {}) as Record<string, string>,
      vcpus: num(flavor.vcpus),
      ramMb: num(flavor.ram),
      diskGb: num(flavor.disk),
    },
    imageId: image && typeof image === 'object' ? str(image.id) : null,
    tags: Array.isArray(raw.tags) ? raw.tags.map(String) : [],
    availabilityZone: str(raw['OS-EXT-AZ:availability_zone']),
  };
}

function toService(raw: Json): ComputeService {
  return {
    id: String(raw.id),
    host: String(raw.host),
    binary: String(raw.binary),
    zone: str(raw.zone),
    status: raw.status === 'disabled' ? 'disabled' : 'enabled',
    state: raw.state === 'down' ? 'down' : 'up',
    updatedAt: str(raw.updated_at),
    disabledReason: str(raw.disabled_reason),
    forcedDown: raw.forced_down === true,
  };
}

function toMigration(raw: Json): Migration {
  return {
    id: String(raw.uuid ?? raw.id),
    instanceId: String(raw.instance_uuid),
    sourceCompute: str(raw.source_compute),
    destCompute: str(raw.dest_compute),
    status: String(raw.status),
    migrationType: String(raw.migration_type ?? 'evacuation'),
    createdAt: String(raw.created_at),
    updatedAt: str(raw.updated_at),
  };
}

/** The evacuate action body for a microversion (it changed at 2.14, 2.29 and 2.68). */
export function evacuateBody(microversion: string, host?: string): Json {
  const body: Json = {};
  if (host) body.host = host;
  if (!atLeast(microversion, '2.14')) body.onSharedStorage = true;
  else if (host && atLeast(microversion, '2.29') && !atLeast(microversion, '2.68')) body.force = false;
  return { evacuate: body };
}

/**
 * The os-migrateLive body for a microversion. Never forced: before 2.30 a named host
 * skipped the scheduler, so it is sent only from 2.30 (where force defaults to false and
 * the host still passes the scheduler's filters; 2.68 removed force). 'auto' block
 * migration from 2.25; before it, shared storage is assumed (block_migration false).
 */
export function liveMigrateBody(microversion: string, host?: string): Json {
  const target = host && atLeast(microversion, '2.30') ? host : null;
  if (!atLeast(microversion, '2.25')) {
    return { 'os-migrateLive': { host: target, block_migration: false, disk_over_commit: false } };
  }
  return { 'os-migrateLive': { host: target, block_migration: 'auto' } };
}

/** The migrate (cold) body: a target host from 2.56, `null` lets the scheduler pick. */
export function coldMigrateBody(microversion: string, host?: string): Json {
  return { migrate: host && atLeast(microversion, '2.56') ? { host } : null };
}

export class OpenStackCloud implements Cloud {
  readonly kind = 'openstack';
  readonly session: KeystoneSession;
  private negotiated: Promise<string> | null = null;

  private readonly pageSize: number;

  constructor(source: Connection | KeystoneSession, options: { timeoutMs?: number; pageSize?: number } = {}) {
    this.session = source instanceof KeystoneSession ? source : new KeystoneSession(source, options);
    this.pageSize = options.pageSize ?? PAGE_SIZE;
  }

  /** min(maximum advertised by the compute endpoint, NEWEST_KNOWN); cached per process. */
  async microversion(): Promise<string> {
    if (!this.negotiated) {
      this.negotiated = this.session
        .request<{ version?: Json; versions?: Json[] }>({ service: 'compute', path: '' })
        .then((response) => {
          const doc = response.data.version ?? response.data.versions?.find((v) => v.status === 'CURRENT');
          const max = str(doc?.version) || '2.1';
          return minMicroversion(max, NEWEST_KNOWN);
        })
        .catch((error) => {
          this.negotiated = null;
          throw error;
        });
    }
    return this.negotiated;
  }

  /** The microversion to send for a call that needs at least `wanted` (capped by what Nova offers). */
  private async use(wanted: string): Promise<string> {
    return minMicroversion(await this.microversion(), wanted);
  }

  novaNow(): number | null {
    return this.session.serviceNow('compute');
  }

  async capabilities(): Promise<CloudCapabilities> {
    const microversion = await this.microversion();
    return { microversion, evacuateKeepsStopped: atLeast(microversion, '2.95') };
  }

  private async compute<T>(method: string, path: string, wanted: string, data?: unknown): Promise<T> {
    const microversion = await this.use(wanted);
    const response = await this.session.request<T>({ service: 'compute', path, method, data, microversion });
    return response.data;
  }

  async listComputeServices(filter: { host?: string } = {}): Promise<ComputeService[]> {
    const query = new URLSearchParams({ binary: 'nova-compute' });
    if (filter.host) query.set('host', filter.host);
    const data = await this.compute<{ services: Json[] }>('GET', `/os-services?${query}`, '2.53');
    return data.services.map(toService);
  }

  async updateComputeService(id: string, change: ServiceChange): Promise<ComputeService> {
    const microversion = await this.microversion();
    if (!atLeast(microversion, '2.53')) {
      throw new CloudError(
        CLOUD_REJECTED,
        `Nova ${microversion} is too old: updating services by id needs 2.53`,
        null,
      );
    }
    const body: Json = {};
    if (change.status) body.status = change.status;
    if (change.disabledReason !== undefined && change.status === 'disabled')
      body.disabled_reason = change.disabledReason;
    if (change.forcedDown !== undefined) body.forced_down = change.forcedDown;
    const data = await this.compute<{ service: Json }>(
      'PUT',
      `/os-services/${encodeURIComponent(id)}`,
      '2.53',
      body,
    );
    return toService(data.service);
  }

  /** Follows `*_links` rel=next, rebuilt on our own endpoint so a misconfigured link host is never contacted. */
  private async paginate(path: string, key: string, wanted: string): Promise<Json[]> {
    const items: Json[] = [];
    let next: string | null = path;
    for (let pages = 0; next && pages < 10_000; pages += 1) {
      const data: Json = await this.compute<Json>('GET', next, wanted);
      const page = (data[key] ?? []) as Json[];
      items.push(...page);
      const links = (data[`${key}_links`] ?? []) as Json[];
      const href = str(links.find((link) => link.rel === 'next')?.href);
      if (!href || page.length === 0) break;
      const url = new URL(href, 'http://placeholder');
      next = `${path.split('?')[0]}${url.search}`;
    }
    return items;
  }

  async listServersOnHost(host: string): Promise<Server[]> {
    const query = new URLSearchParams({ all_tenants: '1', host, limit: String(this.pageSize) });
    const raw = await this.paginate(`/servers/detail?${query}`, 'servers', NEWEST_KNOWN);
    return raw.map(toServer);
  }

  async getServer(id: string): Promise<Server | undefined> {
    try {
      const data = await this.compute<{ server: Json }>(
        'GET',
        `/servers/${encodeURIComponent(id)}`,
        NEWEST_KNOWN,
      );
      return toServer(data.server);
    } catch (error) {
      if (error instanceof CloudError && error.httpStatus === 404) return undefined;
      throw error;
    }
  }

  private async action(id: string, body: Json, wanted: string): Promise<void> {
    await this.compute('POST', `/servers/${encodeURIComponent(id)}/action`, wanted, body);
  }

  async evacuate(id: string, options: { host?: string } = {}): Promise<void> {
    const microversion = await this.microversion();
    await this.action(id, evacuateBody(microversion, options.host), microversion);
  }

  async listEvacuations(filter: { instanceId?: string; sourceCompute?: string }): Promise<Migration[]> {
    return this.migrations({ ...filter, migrationType: 'evacuation' });
  }

  async listMigrations(filter: {
    instanceId?: string;
    sourceCompute?: string;
    migrationType?: string;
  }): Promise<Migration[]> {
    // Newest first, as Nova sorts them from 2.59 (older Novas answer in any order).
    const rows = await this.migrations(filter);
    return rows
      .map((m, index) => ({ m, index }))
      .sort((a, b) => b.m.createdAt.localeCompare(a.m.createdAt) || a.index - b.index)
      .map(({ m }) => m);
  }

  /**
   * /os-migrations filtered by Nova (instance_uuid, source_compute, migration_type) and
   * again here, since a Nova that ignores a filter must not widen the answer. 2.80 for
   * project and user ids; paginated from 2.59.
   */
  private async migrations(filter: {
    instanceId?: string;
    sourceCompute?: string;
    migrationType?: string;
  }): Promise<Migration[]> {
    const query = new URLSearchParams({ limit: String(this.pageSize) });
    if (filter.migrationType) query.set('migration_type', filter.migrationType);
    if (filter.instanceId) query.set('instance_uuid', filter.instanceId);
    if (filter.sourceCompute) query.set('source_compute', filter.sourceCompute);
    const raw = await this.paginate(`/os-migrations?${query}`, 'migrations', '2.80');
    return raw
      .map(toMigration)
      .filter(
        (m) =>
          (!filter.instanceId || m.instanceId === filter.instanceId) &&
          (!filter.sourceCompute || m.sourceCompute === filter.sourceCompute) &&
          (!filter.migrationType || m.migrationType === filter.migrationType),
      );
  }

  async liveMigrate(id: string, options: { host?: string } = {}): Promise<void> {
    const microversion = await this.microversion();
    if (options.host && !atLeast(microversion, '2.30')) {
      throw new CloudError(
        CLOUD_REJECTED,
        `Nova ${microversion} is too old: a live migration to a named host without forcing it needs 2.30`,
        null,
      );
    }
    await this.action(id, liveMigrateBody(microversion, options.host), microversion);
  }

  async coldMigrate(id: string, options: { host?: string } = {}): Promise<void> {
    const microversion = await this.microversion();
    if (options.host && !atLeast(microversion, '2.56')) {
      throw new CloudError(
        CLOUD_REJECTED,
        `Nova ${microversion} is too old: a cold migration to a named host needs 2.56`,
        null,
      );
    }
    await this.action(id, coldMigrateBody(microversion, options.host), microversion);
  }

  async confirmResize(id: string): Promise<void> {
    await this.action(id, { confirmResize: null }, '2.53');
  }

  async lockServer(id: string, reason: string): Promise<void> {
    const microversion = await this.microversion();
    await this.action(
      id,
      { lock: atLeast(microversion, '2.73') ? { locked_reason: reason } : null },
      microversion,
    );
  }

  async unlockServer(id: string): Promise<void> {
    await this.action(id, { unlock: null }, '2.53');
  }

  async resetState(id: string, state: 'active' | 'error'): Promise<void> {
    await this.action(id, { 'os-resetState': { state } }, '2.53');
  }

  async startServer(id: string): Promise<void> {
    await this.action(id, { 'os-start': null }, '2.53');
  }

  /** At 2.53: the vcpus/memory/disk fields were removed in 2.88 (Placement holds them since). */
  async listHypervisors(): Promise<HypervisorStats[]> {
    const raw = await this.paginate('/os-hypervisors/detail?limit=200', 'hypervisors', '2.53');
    return raw.map((h) => {
      const service = (h.service ?? {}) as Json;
      return {
        host: str(service.host) ?? String(h.hypervisor_hostname ?? ''),
        state: h.state === 'down' ? 'down' : 'up',
        status: h.status === 'disabled' ? 'disabled' : 'enabled',
        vcpus: num(h.vcpus) ?? 0,
        vcpusUsed: num(h.vcpus_used) ?? 0,
        memoryMb: num(h.memory_mb) ?? 0,
        memoryMbUsed: num(h.memory_mb_used) ?? 0,
        localGb: num(h.local_gb) ?? 0,
        localGbUsed: num(h.local_gb_used) ?? 0,
        runningVms: num(h.running_vms) ?? 0,
      };
    });
  }

  async listServerGroups(): Promise<ServerGroup[]> {
    const microversion = await this.use('2.64');
    const raw = await this.paginate(
      '/os-server-groups?all_projects=True&limit=200',
      'server_groups',
      microversion,
    );
    return raw.map((g) => {
      // 2.64 turned the policies list into one policy string.
      const policy = str(g.policy) ?? (Array.isArray(g.policies) ? String(g.policies[0]) : 'anti-affinity');
      return {
        id: String(g.id),
        name: String(g.name ?? ''),
        policy: policy as ServerGroup['policy'],
        members: Array.isArray(g.members) ? g.members.map(String) : [],
      };
    });
  }
}
