// SIMULATED Keystone v3 identity data: projects, users (with `email`), groups and role
// assignments, answered in Keystone's own response shapes so the notifier's Keystone
// client is tested against what a real Keystone returns. Read-only API (GET).
import { randomUUID } from 'node:crypto';

export interface SimProject {
  id: string;
  name: string;
  domainId: string;
}
export interface SimIdentityUser {
  id: string;
  name: string;
  /** Keystone keeps email as an extra attribute: absent unless set. */
  email: string | null;
  enabled: boolean;
  domainId: string;
}
export interface SimGroup {
  id: string;
  name: string;
  domainId: string;
  members: string[];
}
export interface SimAssignment {
  projectId: string;
  roleId: string;
  userId?: string;
  groupId?: string;
}

type Json = Record<string, unknown>;
export interface IdentityAnswer {
  status: number;
  body: Json;
}

const keystoneError = (status: number, title: string, message: string): IdentityAnswer => ({
  status,
  body: { error: { code: status, title, message } },
});

const DOMAINS: Record<string, string> = { default: 'Default' };

export class SimulatedIdentity {
  readonly projects = new Map<string, SimProject>();
  readonly users = new Map<string, SimIdentityUser>();
  readonly groups = new Map<string, SimGroup>();
  /** Role name -> id. */
  readonly roles = new Map<string, string>();
  readonly assignments: SimAssignment[] = [];
  /** Paths of the GET requests served, so tests can prove lookups are cached. */
  readonly requests: string[] = [];

  addProject(input: { id?: string; name: string; domainId?: string }): SimProject {
    const project = {
      id: input.id ?? randomUUID().replace(/-/g, ''),
      name: input.name,
      domainId: input.domainId ?? 'default',
    };
    this.projects.set(project.id, project);
    return project;
  }

  addUser(input: {
    id?: string;
    name: string;
    email?: string | null;
    enabled?: boolean;
    domainId?: string;
  }): SimIdentityUser {
    const user = {
      id: input.id ?? randomUUID().replace(/-/g, ''),
      name: input.name,
      email: input.email ?? null,
      enabled: input.enabled ?? true,
      domainId: input.domainId ?? 'default',
    };
    this.users.set(user.id, user);
    return user;
  }

  addGroup(input: { id?: string; name: string; members: string[]; domainId?: string }): SimGroup {
    const group = {
      id: input.id ?? randomUUID().replace(/-/g, ''),
      name: input.name,
      domainId: input.domainId ?? 'default',
      members: input.members,
    };
    this.groups.set(group.id, group);
    return group;
  }

  roleId(name: string): string {
    let id = this.roles.get(name);
    if (!id) {
      id = randomUUID().replace(/-/g, '');
      this.roles.set(name, id);
    }
    return id;
  }

  /** Grants `role` on the project to a user or a group. */
  assign(input: { projectId: string; role: string; userId?: string; groupId?: string }): void {
    this.assignments.push({
      projectId: input.projectId,
      roleId: this.roleId(input.role),
      ...(input.userId ? { userId: input.userId } : {}),
      ...(input.groupId ? { groupId: input.groupId } : {}),
    });
  }

  private roleName(id: string): string | null {
    for (const [name, roleId] of this.roles) if (roleId === id) return name;
    return null;
  }

  private domainRef(id: string, names: boolean): Json {
    return names ? { id, name: DOMAINS[id] ?? id } : { id };
  }

  private userView(user: SimIdentityUser, base: string): Json {
    return {
      id: user.id,
      name: user.name,
      domain_id: user.domainId,
      enabled: user.enabled,
      ...(user.email !== null ? { email: user.email } : {}),
      password_expires_at: null,
      options: {},
      links: { self: `${base}/v3/users/${user.id}` },
    };
  }

  private projectView(project: SimProject, base: string): Json {
    return {
      id: project.id,
      name: project.name,
      domain_id: project.domainId,
      description: '',
      enabled: true,
      is_domain: false,
      parent_id: project.domainId,
      tags: [],
      options: {},
      links: { self: `${base}/v3/projects/${project.id}` },
    };
  }

  private roleAssignments(query: URLSearchParams, base: string): IdentityAnswer {
    const flag = (key: string) =>
      query.has(key) && !['0', 'false'].includes((query.get(key) ?? '').toLowerCase());
    const effective = flag('effective');
    const names = flag('include_names');
    const projectId = query.get('scope.project.id');
    const userId = query.get('user.id');
    const roleId = query.get('role.id');
    if (effective && query.get('group.id')) {
      return keystoneError(
        400,
        'Bad Request',
        'Combining effective and group filter will always result in an empty list.',
      );
    }
    const rows: Json[] = [];
    const row = (
      a: SimAssignment,
      user: SimIdentityUser | null,
      group: SimGroup | null,
      via: SimGroup | null,
    ) => {
      const project = this.projects.get(a.projectId);
      const actor = group ? `groups/${group.id}` : `users/${user?.id}`;
      const links: Json = {
        assignment: `${base}/v3/projects/${a.projectId}/${via ? `groups/${via.id}` : actor}/roles/${a.roleId}`,
      };
      if (via && user) links.membership = `${base}/v3/groups/${via.id}/users/${user.id}`;
      return {
        links,
        role: names ? { id: a.roleId, name: this.roleName(a.roleId) } : { id: a.roleId },
        scope: {
          project: names
            ? {
                id: a.projectId,
                name: project?.name ?? a.projectId,
                domain: this.domainRef(project?.domainId ?? 'default', true),
              }
            : { id: a.projectId },
        },
        ...(user
          ? {
              user: names
                ? { id: user.id, name: user.name, domain: this.domainRef(user.domainId, true) }
                : { id: user.id },
            }
          : {}),
        ...(group
          ? {
              group: names
                ? { id: group.id, name: group.name, domain: this.domainRef(group.domainId, true) }
                : { id: group.id },
            }
          : {}),
      };
    };
    for (const a of this.assignments) {
      if (projectId && a.projectId !== projectId) continue;
      if (roleId && a.roleId !== roleId) continue;
      if (a.userId) {
        const user = this.users.get(a.userId);
        if (user && (!userId || user.id === userId)) rows.push(row(a, user, null, null));
      } else if (a.groupId) {
        const group = this.groups.get(a.groupId);
        if (!group) continue;
        if (!effective) {
          if (!userId && (!query.get('group.id') || query.get('group.id') === group.id))
            rows.push(row(a, null, group, null));
          continue;
        }
        // effective: a group's assignment becomes one row per member, as Keystone expands it.
        for (const memberId of group.members) {
          const user = this.users.get(memberId);
          if (user && (!userId || user.id === userId)) rows.push(row(a, user, null, group));
        }
      }
    }
    return {
      status: 200,
      body: {
        role_assignments: rows,
        links: { self: `${base}/v3/role_assignments?${query}`, previous: null, next: null },
      },
    };
  }

  /** Answers GET /v3/... (path starts at /v3); `base` is the identity endpoint without /v3. */
  handle(path: string, query: URLSearchParams, base: string): IdentityAnswer {
    this.requests.push(`${path}${query.size ? `?${query}` : ''}`);
    if (path === '/v3/role_assignments') return this.roleAssignments(query, base);
    const user = /^\/v3\/users\/([^/]+)$/.exec(path);
    if (user) {
      const found = this.users.get(user[1] as string);
      return found
        ? { status: 200, body: { user: this.userView(found, base) } }
        : keystoneError(404, 'Not Found', `Could not find user: ${user[1]}.`);
    }
    const project = /^\/v3\/projects\/([^/]+)$/.exec(path);
    if (project) {
      const found = this.projects.get(project[1] as string);
      return found
        ? { status: 200, body: { project: this.projectView(found, base) } }
        : keystoneError(404, 'Not Found', `Could not find project: ${project[1]}.`);
    }
    if (path === '/v3/users' || path === '/v3/projects') {
      const name = query.get('name');
      const list = path === '/v3/users' ? [...this.users.values()] : [...this.projects.values()];
      const items = list
        .filter((item) => !name || item.name === name)
        .map((item) =>
          path === '/v3/users'
            ? this.userView(item as SimIdentityUser, base)
            : this.projectView(item as SimProject, base),
        );
      return {
        status: 200,
        body: { [path.slice(4)]: items, links: { self: `${base}${path}`, previous: null, next: null } },
      };
    }
    return keystoneError(404, 'Not Found', 'The resource could not be found.');
  }
}
