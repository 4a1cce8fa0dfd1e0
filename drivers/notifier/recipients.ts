// Who hears about a project's instances: its users' addresses from Keystone (role
// assignments on the project, then each user's `email`), unless the operator lists
// addresses for the project; the administrators when neither gives an address.
// One resolver serves one run, so a user in many projects is looked up once.
import type { Logger } from '@aws-lambda-powertools/logger';
import { CLOUD_TRANSIENT, CloudError } from '../../core/errors.js';
import { mapLimit } from '../../core/map-limit.js';
import { sleep } from '../../core/time.js';
import type { KeystoneSession } from '../cloud/openstack/session.js';

export interface ProjectMember {
  userId: string;
  userName: string | null;
  roles: string[];
}

export interface DirectoryUser {
  id: string;
  name: string | null;
  email: string | null;
  enabled: boolean;
}

/** What the resolver needs from an identity service (Keystone, or a stub in tests). */
export interface IdentityDirectory {
  /** Users holding a role on the project: direct, through a group, or inherited. */
  projectMembers(
    projectId: string,
  ): Promise<{ projectName: string | null; members: ProjectMember[]; truncated: boolean }>;
  /** null when the user no longer exists. */
  user(userId: string): Promise<DirectoryUser | null>;
  projectName(projectId: string): Promise<string | null>;
}

interface RoleAssignment {
  role?: { id?: string; name?: string };
  user?: { id?: string; name?: string };
  group?: { id?: string };
  scope?: { project?: { id?: string; name?: string } };
}

/** Keystone v3 through the cloud driver's session (service type `identity`). */
export class KeystoneDirectory implements IdentityDirectory {
  constructor(private readonly session: Pick<KeystoneSession, 'endpoint' | 'request'>) {}

  /** Catalogs list identity with or without the /v3 suffix; requests need it exactly once. */
  private async path(path: string): Promise<string> {
    const base = await this.session.endpoint('identity');
    return /\/v3$/.test(base) ? path : `/v3${path}`;
  }

  async projectMembers(projectId: string) {
    // effective=true expands group memberships and inherited (domain-wide) roles into
    // one row per user, so group-based projects are covered too.
    let url: string | null = await this.path(
      `/role_assignments?scope.project.id=${encodeURIComponent(projectId)}&include_names=true&effective=true`,
    );
    const byUser = new Map<string, ProjectMember>();
    let projectName: string | null = null;
    let truncated = false;
    for (let pages = 0; url && pages < 50; pages += 1) {
      const response: {
        data: { role_assignments?: RoleAssignment[]; links?: { next?: string | null }; truncated?: boolean };
      } = await this.session.request({ service: 'identity', path: url });
      for (const row of response.data.role_assignments ?? []) {
        projectName ??= row.scope?.project?.name ?? null;
        const id = row.user?.id;
        if (!id) continue;
        const member = byUser.get(id) ?? { userId: id, userName: row.user?.name ?? null, roles: [] };
        const role = row.role?.name ?? row.role?.id;
        if (role && !member.roles.includes(role)) member.roles.push(role);
        byUser.set(id, member);
      }
      truncated ||= response.data.truncated === true;
      url = response.data.links?.next ?? null;
    }
    return { projectName, members: [...byUser.values()], truncated };
  }

  async user(userId: string): Promise<DirectoryUser | null> {
    try {
      const response = await this.session.request<{
        user: { id: string; name?: string; email?: unknown; enabled?: boolean };
      }>({ service: 'identity', path: await this.path(`/users/${encodeURIComponent(userId)}`) });
      const user = response.data.user;
      return {
        id: user.id,
        name: user.name ?? null,
        email: typeof user.email === 'string' ? user.email : null,
        enabled: user.enabled !== false,
      };
    } catch (error) {
      if (error instanceof CloudError && error.httpStatus === 404) return null;
      throw error;
    }
  }

  async projectName(projectId: string): Promise<string | null> {
    try {
      const response = await this.session.request<{ project: { name?: string } }>({
        service: 'identity',
        path: await this.path(`/projects/${encodeURIComponent(projectId)}`),
      });
      return response.data.project.name ?? null;
    } catch (error) {
      if (error instanceof CloudError && error.httpStatus === 404) return null;
      throw error;
    }
  }
}

export interface RecipientPolicy {
  admins: string[];
  /** Project id or name -> addresses used instead of the Keystone lookup. */
  overrides: Record<string, string[]>;
  /** Only users holding one of these roles on the project (case-insensitive); null: any role. */
  roles: string[] | null;
  /** User names or ids never mailed as tenants (service and cloud-admin accounts). */
  excludeUsers: string[];
}

export interface ProjectRecipients {
  projectId: string;
  projectName: string | null;
  addresses: string[];
  source: 'keystone' | 'override' | 'admins';
  /** Why the administrators got it, or what limited the lookup. */
  note: string | null;
}

// Deliberately loose: Keystone's email field is free text, and one bad value must not
// sink the whole project's message.
const ADDRESS = /^[^\s@<>,;"]+@[^\s@<>,;"]+\.[^\s@<>,;"]+$/;
export const isAddress = (value: string) => ADDRESS.test(value.trim());

function unique(addresses: string[]): string[] {
  const seen = new Map<string, string>();
  for (const raw of addresses) {
    const address = raw.trim();
    if (address && !seen.has(address.toLowerCase())) seen.set(address.toLowerCase(), address);
  }
  return [...seen.values()];
}

/** Keystone blips (5xx, timeouts) are retried briefly; refusals (403, 404) are not. */
async function withRetry<T>(fn: () => Promise<T>, delays = [250, 1000]): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await fn();
    } catch (error) {
      const transient = !(error instanceof CloudError) || error.name === CLOUD_TRANSIENT;
      const delay = delays[attempt];
      if (!transient || delay === undefined) throw error;
      await sleep(delay);
    }
  }
}

export type ResolverLogger = Pick<Logger, 'warn'>;

export class RecipientResolver {
  private readonly projects = new Map<string, Promise<ProjectRecipients>>();
  private readonly users = new Map<string, Promise<DirectoryUser | null>>();
  private readonly excluded: Set<string>;
  private readonly roles: Set<string> | null;

  constructor(
    private readonly policy: RecipientPolicy,
    private readonly directory: IdentityDirectory | null,
    private readonly logger?: ResolverLogger,
  ) {
    this.excluded = new Set(policy.excludeUsers);
    this.roles = policy.roles ? new Set(policy.roles.map((r) => r.toLowerCase())) : null;
  }

  /** Memoised: asking twice for a project (or for two projects sharing users) costs one lookup. */
  forProject(projectId: string): Promise<ProjectRecipients> {
    let pending = this.projects.get(projectId);
    if (!pending) {
      pending = this.resolve(projectId);
      this.projects.set(projectId, pending);
    }
    return pending;
  }

  private user(id: string): Promise<DirectoryUser | null> {
    let pending = this.users.get(id);
    if (!pending) {
      const directory = this.directory as IdentityDirectory;
      pending = withRetry(() => directory.user(id));
      this.users.set(id, pending);
    }
    return pending;
  }

  private fallback(projectId: string, projectName: string | null, note: string): ProjectRecipients {
    return { projectId, projectName, addresses: unique(this.policy.admins), source: 'admins', note };
  }

  private async resolve(projectId: string): Promise<ProjectRecipients> {
    const byId = this.policy.overrides[projectId];
    if (byId) {
      const projectName = this.directory
        ? await this.directory.projectName(projectId).catch(() => null)
        : null;
      return this.fromOverride(projectId, projectName, byId);
    }
    if (!this.directory) {
      return this.fallback(
        projectId,
        null,
        'no address is configured for this project and Keystone lookups are off',
      );
    }
    let lookup: Awaited<ReturnType<IdentityDirectory['projectMembers']>>;
    const directory = this.directory;
    try {
      lookup = await withRetry(() => directory.projectMembers(projectId));
    } catch (error) {
      const message = (error as Error).message;
      this.logger?.warn('Keystone lookup of project users failed', { projectId, error: message });
      return this.fallback(projectId, null, `the Keystone lookup of its users failed: ${message}`);
    }
    const projectName = lookup.projectName ?? (await directory.projectName(projectId).catch(() => null));
    const byName = projectName ? this.policy.overrides[projectName] : undefined;
    if (byName) return this.fromOverride(projectId, projectName, byName);

    const members = lookup.members.filter(
      (m) =>
        !this.excluded.has(m.userId) &&
        !(m.userName && this.excluded.has(m.userName)) &&
        (!this.roles || m.roles.some((r) => this.roles?.has(r.toLowerCase()))),
    );
    let failures = 0;
    const users = await mapLimit(members, 8, (m) =>
      this.user(m.userId).catch((error: Error) => {
        failures += 1;
        this.logger?.warn('Keystone user lookup failed', { userId: m.userId, error: error.message });
        return null;
      }),
    );
    const addresses = unique(
      users
        .filter((u): u is DirectoryUser => !!u && u.enabled && !!u.email && isAddress(u.email))
        .map((u) => u.email as string),
    );
    const limits = [
      ...(lookup.truncated ? ['Keystone truncated the role assignment list (list_limit)'] : []),
      ...(failures ? [`${failures} user lookup(s) failed`] : []),
    ];
    if (!addresses.length) {
      const why = members.length
        ? `none of its ${members.length} user(s)${this.roles ? ' with a matching role' : ''} has an email address in Keystone`
        : `it has no users${this.roles ? ' with a matching role' : ''} in Keystone`;
      return this.fallback(projectId, projectName, [why, ...limits].join('; '));
    }
    return {
      projectId,
      projectName,
      addresses,
      source: 'keystone',
      note: limits.length ? limits.join('; ') : null,
    };
  }

  private fromOverride(projectId: string, projectName: string | null, list: string[]): ProjectRecipients {
    const addresses = unique(list.filter(isAddress));
    if (!addresses.length) {
      return this.fallback(projectId, projectName, 'its configured address list is empty or invalid');
    }
    return { projectId, projectName, addresses, source: 'override', note: null };
  }
}
