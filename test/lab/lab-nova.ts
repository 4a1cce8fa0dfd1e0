// Admin-side Nova calls the lab tests and the lab benchmark need around freezer-dr:
// boot pinned servers, put them in a state, read services and migrations, and put the
// lab back in order (every compute running, up, enabled, not forced down; test servers
// deleted). freezer-dr's own calls go through its driver, never through these.
import { readFileSync } from 'node:fs';
import type { ComputeService, Migration, Server } from '../../core/ports.js';
import { sleep } from '../../core/time.js';
import { type OpenStackCloud, toServer } from '../../drivers/cloud/openstack/nova.js';
import type { KeystoneSession } from '../../drivers/cloud/openstack/session.js';
import { computePid, computeScript, HOSTS, labEnv } from './lab-env.js';

/** Name prefixes of the servers lab tests and benchmarks create; cleanup deletes only these. */
export const LAB_PREFIXES = ['contract-', 'gd-', 'fail-', 'bench-', 'place-', 'drain-'];

export interface ServerSpec {
  name: string;
  host: string;
  metadata?: Record<string, string>;
  /** Boot in this session's project (an admin-role, project-scoped session); default admin. */
  session?: KeystoneSession;
  /** Server group to boot into (scheduler hint `group`). */
  group?: string;
}

type Json = Record<string, unknown>;

export async function until<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs: number,
  pollMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = (error as Error).message;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs / 1000} s waiting for ${what}${lastError ? ` (${lastError})` : ''}`,
      );
    }
    await sleep(pollMs);
  }
}

export class LabNova {
  readonly imageId: string;

  constructor(readonly cloud: OpenStackCloud) {
    const env = labEnv();
    if (!env.LAB_IMAGE_ID) throw new Error('lab.env has no LAB_IMAGE_ID: run test/lab/up.sh');
    this.imageId = env.LAB_IMAGE_ID;
  }

  async call<T>(
    method: string,
    path: string,
    microversion: string,
    data?: unknown,
    session: KeystoneSession = this.cloud.session,
  ): Promise<T> {
    const response = await session.request<T>({ service: 'compute', path, method, data, microversion });
    return response.data;
  }

  /** Boots at 2.74 pinned to a host, no network; returns the id without waiting. */
  async boot(spec: ServerSpec): Promise<string> {
    const body = {
      server: {
        name: spec.name,
        imageRef: this.imageId,
        flavorRef: '1',
        networks: 'none',
        host: spec.host,
        ...(spec.metadata ? { metadata: spec.metadata } : {}),
      },
      ...(spec.group ? { 'os:scheduler_hints': { group: spec.group } } : {}),
    };
    const data = await this.call<{ server: { id: string } }>('POST', '/servers', '2.74', body, spec.session);
    return data.server.id;
  }

  /** Creates a server group (2.64: one policy) in the session's project; returns its id. */
  async serverGroup(
    name: string,
    policy: 'anti-affinity' | 'affinity',
    session: KeystoneSession = this.cloud.session,
  ): Promise<string> {
    const data = await this.call<{ server_group: { id: string } }>(
      'POST',
      '/os-server-groups',
      '2.64',
      { server_group: { name, policy } },
      session,
    );
    return data.server_group.id;
  }

  /** Deletes the server groups of every project whose name starts with the prefix. */
  async deleteServerGroups(prefix: string): Promise<void> {
    const data = await this.call<{ server_groups: { id: string; name: string }[] }>(
      'GET',
      '/os-server-groups?all_projects=True&limit=1000',
      '2.64',
    );
    for (const group of data.server_groups.filter((g) => g.name.startsWith(prefix))) {
      await this.call('DELETE', `/os-server-groups/${group.id}`, '2.64').catch(() => undefined);
    }
  }

  /** Every server whose name starts with the prefix, across projects. */
  async servers(prefix: string): Promise<Server[]> {
    const query = new URLSearchParams({ all_tenants: '1', name: `^${prefix}`, limit: '1000' });
    const data = await this.call<{ servers: Json[] }>('GET', `/servers/detail?${query}`, '2.74');
    return data.servers.map(toServer).filter((s) => s.name.startsWith(prefix));
  }

  /** Boots them all at once and waits until each is ACTIVE, settled, on its host. */
  async bootActive(specs: ServerSpec[], timeoutMs = 240_000): Promise<string[]> {
    const ids = await Promise.all(specs.map((spec) => this.boot(spec)));
    await this.waitFor(
      ids,
      (s, i) => s.status === 'ACTIVE' && !s.taskState && s.host === specs[i]?.host,
      'ACTIVE',
      timeoutMs,
    );
    return ids;
  }

  /** Polls each server until the predicate holds for all; ERROR where not expected fails at once. */
  async waitFor(
    ids: string[],
    ok: (server: Server, index: number) => boolean,
    what: string,
    timeoutMs: number,
  ): Promise<Server[]> {
    return until(
      `${ids.length} servers ${what}`,
      async () => {
        const servers = await Promise.all(ids.map((id) => this.cloud.getServer(id)));
        servers.forEach((s, i) => {
          if (!s) throw new Error(`server ${ids[i]} disappeared`);
          if (s.status === 'ERROR' && !ok(s, i)) throw new Error(`server ${s.name} went to ERROR`);
        });
        return servers.every((s, i) => s && ok(s, i)) ? (servers as Server[]) : null;
      },
      timeoutMs,
    );
  }

  async stop(id: string): Promise<void> {
    await this.call('POST', `/servers/${id}/action`, '2.53', { 'os-stop': null });
    await this.waitFor([id], (s) => s.status === 'SHUTOFF' && !s.taskState, 'SHUTOFF', 120_000);
  }

  async resetToError(id: string): Promise<void> {
    await this.cloud.resetState(id, 'error');
    await this.waitFor([id], (s) => s.status === 'ERROR', 'ERROR', 30_000);
  }

  async service(host: string): Promise<ComputeService> {
    const service = (await this.cloud.listComputeServices({ host })).find((s) => s.host === host);
    if (!service) throw new Error(`no nova-compute service on ${host}`);
    return service;
  }

  /** Every evacuation record of one instance (any source), straight from os-migrations. */
  async evacuationsOf(instanceId: string): Promise<Migration[]> {
    return this.cloud.listEvacuations({ instanceId });
  }

  async deleteServers(ids: string[], timeoutMs = 180_000): Promise<void> {
    await Promise.all(ids.map((id) => this.call('DELETE', `/servers/${id}`, '2.53').catch(() => undefined)));
    await until(
      `${ids.length} servers deleted`,
      async () =>
        (await Promise.all(ids.map((id) => this.cloud.getServer(id)))).every((s) => s === undefined),
      timeoutMs,
      1000,
    );
  }

  async deleteLabServers(): Promise<void> {
    const ids: string[] = [];
    for (const prefix of LAB_PREFIXES) ids.push(...(await this.servers(prefix)).map((s) => s.id));
    if (ids.length) await this.deleteServers(ids);
  }

  /**
   * Test plumbing, not freezer-dr's restore: the host's nova-compute runs, its evacuations
   * are `completed`, and the service is enabled, not forced down, and reports up.
   */
  async healHost(host: string, timeoutMs = 240_000): Promise<void> {
    const pid = computePid(host);
    if (pid && processState(pid) === 'T') await computeScript('kill', host); // hung by a bench run
    await computeScript('start', host);
    let service = await this.service(host);
    if (service.forcedDown || service.status === 'disabled') {
      await until(
        `evacuations from ${host} completed`,
        async () => {
          const rows = await this.cloud.listEvacuations({ sourceCompute: host });
          return rows.every((m) => !['done', 'accepted', 'pre-migrating', 'running'].includes(m.status));
        },
        timeoutMs,
      );
      service = await this.cloud.updateComputeService(service.id, { status: 'enabled', forcedDown: false });
    }
    await until(`${host} up`, async () => (await this.service(host)).state === 'up', timeoutMs);
  }

  /** Every compute healthy and no test server left: the state each lab test starts from. */
  async healLab(): Promise<void> {
    for (const host of HOSTS) await this.healHost(host);
    await this.deleteLabServers();
  }
}

function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}
