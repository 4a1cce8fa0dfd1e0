// SIMULATED Keystone v3 + Nova API over HTTP on 127.0.0.1, backed by SimulatedCloudState.
// The real OpenStack driver talks to it exactly as it talks to a real cloud, so the
// fast tests exercise auth, microversions, pagination and Nova's error answers.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Connection } from '../../cloud/openstack/credentials.js';
import { atLeast, compareMicroversions } from '../openstack/microversion.js';
import { SimulatedIdentity } from './identity.js';
import { migrationAction } from './migrate-api.js';
import { badRequest, conflict, HttpError, NovaAnswer, notFound } from './nova-errors.js';
import { type SimHost, type SimOptions, type SimServer, SimulatedCloudState } from './state.js';

export interface SimUser {
  name: string;
  password: string;
  project: string;
  admin: boolean;
}

export interface SimulatedCloud {
  url: string;
  authUrl: string;
  state: SimulatedCloudState;
  /** Credentials for the admin user, as a clouds.yaml entry would give them. */
  connection: Connection;
  /** Fault injection: the next `count` requests matching method+path answer `status`. */
  failNext(method: string, path: RegExp, status: number, count?: number): void;
  /** Invalidates every token now (as a Keystone restart or revocation would). */
  revokeTokens(): void;
  /** Keystone's projects, users (with email) and role assignments, served read-only under /identity/v3. */
  identity: SimulatedIdentity;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;
const RESERVED_HOST_RAM_MB = 512;

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (!text) return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new HttpError(400, { badRequest: { code: 400, message: 'Malformed request body' } }));
      }
    });
    req.on('error', reject);
  });
}

export interface SimAppCredential {
  id: string;
  secret: string;
  user: string;
}

export async function startSimulatedCloud(
  options: SimOptions & { users?: SimUser[]; appCredentials?: SimAppCredential[]; pageSizeCap?: number } = {},
): Promise<SimulatedCloud> {
  const state = new SimulatedCloudState(options);
  const users: SimUser[] = options.users ?? [
    { name: 'admin', password: randomBytes(12).toString('hex'), project: 'admin', admin: true },
  ];
  const tokens = new Map<string, { user: SimUser; expiresAt: number }>();
  const identity = new SimulatedIdentity();
  const injected: { method: string; path: RegExp; status: number; count: number }[] = [];
  const pageCap = options.pageSizeCap ?? 1000;
  let base = '';

  const serverView = (server: SimServer, microversion: string): Json => {
    // Nova's status map (api/openstack/common.py): the task state names some statuses.
    const task = server.taskState ?? '';
    const status = task.startsWith('rebuild')
      ? 'REBUILD'
      : task === 'migrating' && server.vmState === 'active'
        ? 'MIGRATING'
        : task.startsWith('resize_') && server.vmState !== 'resized'
          ? 'RESIZE'
          : (
              {
                active: 'ACTIVE',
                stopped: 'SHUTOFF',
                error: 'ERROR',
                building: 'BUILD',
                resized: 'VERIFY_RESIZE',
              } as const
            )[server.vmState];
    return {
      id: server.id,
      name: server.name,
      tenant_id: server.projectId,
      user_id: server.userId,
      status,
      'OS-EXT-SRV-ATTR:host': server.host,
      'OS-EXT-SRV-ATTR:hypervisor_hostname': server.host,
      'OS-EXT-STS:vm_state': server.vmState,
      'OS-EXT-STS:task_state': server.taskState,
      'OS-EXT-AZ:availability_zone': state.hosts.get(server.host)?.zone ?? 'nova',
      locked: server.locked,
      ...(atLeast(microversion, '2.73') ? { locked_reason: server.lockedReason } : {}),
      metadata: server.metadata,
      flavor: atLeast(microversion, '2.47')
        ? {
            original_name: server.flavorName,
            extra_specs: server.extraSpecs,
            vcpus: server.vcpus,
            ram: server.ramMb,
            disk: server.diskGb,
          }
        : { id: server.flavorName },
      image: { id: server.imageId },
      ...(atLeast(microversion, '2.26') ? { tags: server.tags } : {}),
      created: server.createdAt,
    };
  };

  const serviceView = (host: SimHost): Json => ({
    id: host.serviceId,
    binary: 'nova-compute',
    host: host.name,
    zone: host.zone,
    status: host.status,
    state: state.serviceState(host),
    updated_at: new Date(state.reportedAt(host)).toISOString().replace('Z', '000'),
    disabled_reason: host.disabledReason,
    forced_down: host.forcedDown,
  });

  const page = <T>(items: T[], key: (item: T) => string, query: URLSearchParams) => {
    const limit = Math.min(Number(query.get('limit') ?? pageCap) || pageCap, pageCap);
    const marker = query.get('marker');
    let start = 0;
    if (marker) {
      const index = items.findIndex((item) => key(item) === marker);
      if (index < 0) throw badRequest(`marker [${marker}] not found`);
      start = index + 1;
    }
    const slice = items.slice(start, start + limit);
    const more = start + limit < items.length;
    return { slice, more, last: slice.length ? key(slice[slice.length - 1] as T) : null, limit };
  };

  const evacuate = (server: SimServer, body: Json, microversion: string) => {
    const allowed = atLeast(microversion, '2.68')
      ? ['host', 'adminPass']
      : atLeast(microversion, '2.29')
        ? ['host', 'adminPass', 'force']
        : atLeast(microversion, '2.14')
          ? ['host', 'adminPass']
          : ['host', 'adminPass', 'onSharedStorage'];
    for (const key of Object.keys(body)) {
      if (!allowed.includes(key)) {
        throw badRequest(
          `Invalid input for field/attribute evacuate. Value: ${JSON.stringify(body)}. Additional properties are not allowed ('${key}' was unexpected)`,
        );
      }
    }
    if (!atLeast(microversion, '2.14') && body.onSharedStorage === undefined) {
      throw badRequest(
        "Invalid input for field/attribute evacuate. 'onSharedStorage' is a required property",
      );
    }
    const source = state.host(server.host);
    if (state.serviceState(source) === 'up') {
      state.counters.evacuateRejected += 1;
      throw badRequest(`Compute service of ${source.name} is still in use.`);
    }
    if (server.taskState === 'migrating') {
      // Evacuate checks no task state (compute/api.py: task_state=None): accepted while a
      // live migration is in flight. The rebuild goes on; counted as unsafe (must stay 0).
      state.evacuatedWhileMigrating += 1;
    } else if (server.taskState) {
      // Nova 26 checks no task state for evacuate: a second one during a rebuild answers
      // 200, its migration stays 'accepted', and the two rebuilds collide on the
      // destination, leaving the instance in ERROR (measured on test/lab).
      state.counters.evacuateAccepted.set(
        server.id,
        (state.counters.evacuateAccepted.get(server.id) ?? 0) + 1,
      );
      state.newMigration(server);
      server.rebuildCollided = true;
      return;
    }
    if (!['active', 'stopped', 'error'].includes(server.vmState)) {
      throw conflict(`Cannot 'evacuate' instance ${server.id} while it is in vm_state ${server.vmState}`);
    }
    const target = typeof body.host === 'string' ? body.host : null;
    if (target) {
      const host = state.hosts.get(target);
      if (!host) throw notFound(`Compute host ${target} could not be found.`);
      if (target === source.name) throw badRequest(`The target host can't be the same one.`);
    }
    if (source.power === 'on') state.unsafeEvacuations += 1;
    state.counters.evacuateAccepted.set(server.id, (state.counters.evacuateAccepted.get(server.id) ?? 0) + 1);
    server.taskState = 'rebuilding';
    const migration = state.newMigration(server);
    state.runEvacuation(server, migration, target, atLeast(microversion, '2.95'));
  };

  const nova = async (
    method: string,
    path: string,
    query: URLSearchParams,
    body: Json,
    microversion: string,
  ) => {
    if (path === '' || path === '/') {
      return {
        version: {
          id: 'v2.1',
          status: 'CURRENT',
          version: state.options.maxMicroversion,
          min_version: '2.1',
          links: [{ rel: 'self', href: `${base}/compute/v2.1/` }],
        },
      };
    }
    if (method === 'GET' && path === '/os-services') {
      const hosts = [...state.hosts.values()].filter(
        (h) => !query.get('host') || h.name === query.get('host'),
      );
      const binary = query.get('binary');
      return { services: binary && binary !== 'nova-compute' ? [] : hosts.map(serviceView) };
    }
    const serviceMatch = /^\/os-services\/([^/]+)$/.exec(path);
    if (method === 'PUT' && serviceMatch) {
      if (!atLeast(microversion, '2.53'))
        throw notFound('Service not found (pre-2.53 API takes actions, not ids)');
      const host = [...state.hosts.values()].find((h) => h.serviceId === serviceMatch[1]);
      if (!host) throw notFound(`Service ${serviceMatch[1]} could not be found.`);
      if (body.forced_down === false) {
        // Nova checks this on every forced_down=false, forced down or not.
        const pending = state.migrations.some((m) => m.sourceCompute === host.name && m.status === 'done');
        if (pending) {
          throw badRequest(
            `Unable to force up host ${host.name} as \`done\` evacuation migration records remain associated with the host. Ensure the compute service has been restarted, allowing these records to move to \`completed\` before retrying this request.`,
          );
        }
      }
      if (body.status === 'disabled') {
        host.status = 'disabled';
        host.disabledReason = typeof body.disabled_reason === 'string' ? body.disabled_reason : null;
      } else if (body.status === 'enabled') {
        host.status = 'enabled';
        host.disabledReason = null;
      }
      if (typeof body.forced_down === 'boolean') host.forcedDown = body.forced_down;
      state.counters.serviceUpdates += 1;
      return { service: serviceView(host) };
    }
    if (method === 'GET' && path === '/servers/detail') {
      const host = query.get('host');
      const all = [...state.servers.values()]
        .filter((s) => !host || s.host === host)
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
      const { slice, more, last, limit } = page(all, (s) => s.id, query);
      const next = new URLSearchParams(query);
      next.set('limit', String(limit));
      if (last) next.set('marker', last);
      return {
        servers: slice.map((s) => serverView(s, microversion)),
        ...(more
          ? { servers_links: [{ rel: 'next', href: `${base}/compute/v2.1/servers/detail?${next}` }] }
          : {}),
      };
    }
    const serverMatch = /^\/servers\/([^/]+)(\/action)?$/.exec(path);
    if (serverMatch) {
      const server = state.servers.get(serverMatch[1] as string);
      if (!server) throw notFound(`Instance ${serverMatch[1]} could not be found.`);
      if (method === 'GET' && !serverMatch[2]) return { server: serverView(server, microversion) };
      if (method === 'POST' && serverMatch[2]) {
        const [action, args] = Object.entries(body)[0] ?? [];
        switch (action) {
          case 'evacuate':
            evacuate(server, (args ?? {}) as Json, microversion);
            return {};
          case 'lock':
            server.locked = true;
            server.lockedReason = (args as Json | null)?.locked_reason
              ? String((args as Json).locked_reason)
              : null;
            return {};
          case 'unlock':
            server.locked = false;
            server.lockedReason = null;
            return {};
          case 'os-resetState': {
            const wanted = (args as Json | null)?.state;
            if (wanted !== 'active' && wanted !== 'error') throw badRequest('state must be active or error');
            server.vmState = wanted;
            server.taskState = null;
            return {};
          }
          case 'os-start':
            if (server.vmState !== 'stopped') {
              throw conflict(
                `Cannot 'start' instance ${server.id} while it is in vm_state ${server.vmState}`,
              );
            }
            server.vmState = 'active';
            return {};
          default: {
            const answer = migrationAction(state, server, String(action), args, microversion);
            if (answer) return answer;
            throw badRequest(`Unsupported action ${String(action)}`);
          }
        }
      }
    }
    if (method === 'GET' && path === '/os-hypervisors/detail') {
      // The resource fields exist up to 2.87 (Placement is the source from 2.88 on).
      if (atLeast(microversion, '2.88')) return { hypervisors: [] };
      return {
        hypervisors: [...state.hosts.values()].map((host) => {
          const { capacity, used, count } = state.usage(host.name);
          return {
            id: host.serviceId,
            hypervisor_hostname: host.name,
            hypervisor_type: 'QEMU',
            state: state.serviceState(host),
            status: host.status,
            vcpus: capacity.vcpus,
            vcpus_used: used.vcpus,
            memory_mb: capacity.ramMb,
            // Nova counts reserved_host_memory_mb (512 by default) as used.
            memory_mb_used: RESERVED_HOST_RAM_MB + used.ramMb,
            free_ram_mb: capacity.ramMb - RESERVED_HOST_RAM_MB - used.ramMb,
            local_gb: capacity.diskGb,
            local_gb_used: used.diskGb,
            free_disk_gb: capacity.diskGb - used.diskGb,
            running_vms: count,
            service: { host: host.name, id: host.serviceId, disabled_reason: host.disabledReason },
          };
        }),
      };
    }
    if (method === 'GET' && path === '/os-server-groups') {
      return {
        server_groups: [...state.serverGroups.values()].map((g) => ({
          id: g.id,
          name: g.name,
          members: g.members,
          ...(atLeast(microversion, '2.64') ? { policy: g.policy, rules: {} } : { policies: [g.policy] }),
        })),
      };
    }
    if (method === 'GET' && path === '/os-migrations') {
      const rows = state.migrations.filter(
        (m) =>
          (!query.get('instance_uuid') || m.instanceId === query.get('instance_uuid')) &&
          (!query.get('source_compute') || m.sourceCompute === query.get('source_compute')) &&
          (!query.get('migration_type') || query.get('migration_type') === (m.migrationType ?? 'evacuation')),
      );
      const { slice, more, last, limit } = page(rows, (m) => m.uuid, query);
      const next = new URLSearchParams(query);
      next.set('limit', String(limit));
      if (last) next.set('marker', last);
      return {
        migrations: slice.map((m) => ({
          id: m.id,
          uuid: m.uuid,
          instance_uuid: m.instanceId,
          source_compute: m.sourceCompute,
          dest_compute: m.destCompute,
          source_node: m.sourceCompute,
          dest_node: m.destCompute,
          status: m.status,
          migration_type: m.migrationType ?? 'evacuation',
          created_at: m.createdAt,
          updated_at: m.updatedAt,
        })),
        ...(more && atLeast(microversion, '2.59')
          ? { migrations_links: [{ rel: 'next', href: `${base}/compute/v2.1/os-migrations?${next}` }] }
          : {}),
      };
    }
    throw notFound(`no route for ${method} ${path}`);
  };

  const keystone = (method: string, path: string, body: Json, res: ServerResponse) => {
    if (method !== 'POST' || path !== '/v3/auth/tokens') throw notFound(`no route for ${method} ${path}`);
    const identity = ((body.auth as Json | undefined)?.identity ?? {}) as Json;
    const password = ((identity.password as Json | undefined)?.user ?? {}) as Json;
    const appCred = (identity.application_credential ?? {}) as Json;
    const viaAppCred = (options.appCredentials ?? []).find(
      (c) => c.id === appCred.id && c.secret === appCred.secret,
    );
    const user = viaAppCred
      ? users.find((u) => u.name === viaAppCred.user)
      : users.find((u) => u.name === password.name && u.password === password.password);
    if (!user) {
      throw new HttpError(401, {
        error: {
          code: 401,
          title: 'Unauthorized',
          message: 'The request you have made requires authentication.',
        },
      });
    }
    const value = randomBytes(16).toString('hex');
    const expiresAt = Date.now() + state.options.tokenTtlMs;
    tokens.set(value, { user, expiresAt });
    state.counters.tokensIssued += 1;
    res.setHeader('X-Subject-Token', value);
    return {
      token: {
        expires_at: new Date(expiresAt).toISOString(),
        user: { name: user.name },
        project: { name: user.project },
        roles: user.admin ? [{ name: 'admin' }] : [{ name: 'member' }],
        catalog: [
          {
            type: 'compute',
            name: 'nova',
            endpoints: [
              {
                interface: 'public',
                region: 'RegionOne',
                region_id: 'RegionOne',
                url: `${base}/compute/v2.1`,
              },
              {
                interface: 'internal',
                region: 'RegionOne',
                region_id: 'RegionOne',
                url: `${base}/compute/v2.1`,
              },
            ],
          },
          {
            type: 'identity',
            name: 'keystone',
            endpoints: [
              {
                interface: 'public',
                region: 'RegionOne',
                region_id: 'RegionOne',
                url: `${base}/identity/v3`,
              },
            ],
          },
        ],
      },
    };
  };

  const server: Server = createServer(async (req, res) => {
    state.counters.requests += 1;
    // Nova's Date header, on Nova's (possibly skewed) clock.
    res.setHeader('Date', new Date(state.novaNow()).toUTCString());
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(payload === undefined ? '' : JSON.stringify(payload));
    };
    try {
      if (state.options.latencyMs) await new Promise((r) => setTimeout(r, state.options.latencyMs));
      const fault = injected.find((f) => f.method === method && f.path.test(url.pathname) && f.count > 0);
      if (fault) {
        fault.count -= 1;
        return send(fault.status, { computeFault: { code: fault.status, message: 'injected fault' } });
      }
      const body = ((await readBody(req)) ?? {}) as Json;
      if (url.pathname.startsWith('/identity') && method === 'GET') {
        const token = tokens.get(String(req.headers['x-auth-token'] ?? ''));
        if (!token || token.expiresAt < Date.now()) {
          return send(401, {
            error: {
              code: 401,
              title: 'Unauthorized',
              message: 'The request you have made requires authentication.',
            },
          });
        }
        if (!token.user.admin) {
          return send(403, {
            error: {
              code: 403,
              title: 'Forbidden',
              message: 'You are not authorized to perform the requested action.',
            },
          });
        }
        const answer = identity.handle(
          url.pathname.slice('/identity'.length),
          url.searchParams,
          `${base}/identity`,
        );
        return send(answer.status, answer.body);
      }
      if (url.pathname.startsWith('/identity')) {
        return send(201, keystone(method, url.pathname.slice('/identity'.length), body, res));
      }
      if (url.pathname.startsWith('/compute/v2.1')) {
        const token = tokens.get(String(req.headers['x-auth-token'] ?? ''));
        if (!token || token.expiresAt < Date.now()) {
          return send(401, {
            error: { code: 401, message: 'The request you have made requires authentication.' },
          });
        }
        if (!token.user.admin)
          return send(403, { forbidden: { code: 403, message: 'Policy does not allow this.' } });
        const header = String(req.headers['openstack-api-version'] ?? '').replace(/^compute\s+/, '') || '2.1';
        const microversion = header === 'latest' ? state.options.maxMicroversion : header;
        if (compareMicroversions(microversion, state.options.maxMicroversion) > 0) {
          return send(406, {
            computeFault: { code: 406, message: `Version ${microversion} is not supported by the API.` },
          });
        }
        const path = url.pathname.slice('/compute/v2.1'.length).replace(/\/$/, '');
        const result = await nova(method, path, url.searchParams, body, microversion);
        if (method !== 'GET') state.changed();
        res.setHeader('OpenStack-API-Version', `compute ${microversion}`);
        if (result instanceof NovaAnswer) return send(result.status, result.body);
        return send(200, result);
      }
      send(404, { error: 'not found' });
    } catch (error) {
      if (error instanceof HttpError) return send(error.status, error.body);
      send(500, { computeFault: { code: 500, message: (error as Error).message } });
    }
  });
  server.keepAliveTimeout = 1000;

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
  const admin = users.find((u) => u.admin) ?? (users[0] as SimUser);
  return {
    url: base,
    authUrl: `${base}/identity/v3`,
    state,
    connection: {
      auth: {
        auth_url: `${base}/identity/v3`,
        username: admin.name,
        password: admin.password,
        project_name: admin.project,
        user_domain_name: 'Default',
        project_domain_name: 'Default',
      },
      authType: 'password',
      region: 'RegionOne',
      interface: 'public',
    },
    failNext(method, path, status, count = 1) {
      injected.push({ method, path, status, count });
    },
    identity,
    revokeTokens() {
      tokens.clear();
    },
    async close() {
      state.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
