// Keystone v3 as the lab's admin: projects and users with e-mail addresses for the
// game day, and project-scoped admin sessions so pinned servers (admin-only at 2.74)
// belong to those projects. Everything created here carries the `gd-` prefix.
import type { Connection } from '../../drivers/cloud/openstack/credentials.js';
import type { OpenStackCloud } from '../../drivers/cloud/openstack/nova.js';
import { KeystoneSession } from '../../drivers/cloud/openstack/session.js';

type Json = Record<string, unknown>;

export interface LabUser {
  name: string;
  email: string;
}

export class LabKeystone {
  private readonly session: KeystoneSession;

  constructor(private readonly cloud: OpenStackCloud) {
    this.session = cloud.session;
  }

  private async call<T>(method: string, path: string, data?: unknown): Promise<T> {
    const base = await this.session.endpoint('identity');
    const full = /\/v3$/.test(base) ? path : `/v3${path}`;
    const response = await this.session.request<T>({ service: 'identity', path: full, method, data });
    return response.data;
  }

  private async idByName(kind: 'projects' | 'users' | 'roles', name: string): Promise<string | null> {
    const data = await this.call<Record<string, Json[]>>('GET', `/${kind}?name=${encodeURIComponent(name)}`);
    const found = (data[kind] ?? [])[0];
    return found ? String(found.id) : null;
  }

  async project(name: string): Promise<string> {
    const existing = await this.idByName('projects', name);
    if (existing) return existing;
    const data = await this.call<{ project: Json }>('POST', '/projects', {
      project: { name, domain_id: 'default', description: 'freezer-dr lab game day' },
    });
    return String(data.project.id);
  }

  /** Creates the user (or updates its e-mail) and gives it `member` on the project. */
  async member(projectId: string, user: LabUser): Promise<string> {
    let id = await this.idByName('users', user.name);
    if (id) {
      await this.call('PATCH', `/users/${id}`, { user: { email: user.email, enabled: true } });
    } else {
      const data = await this.call<{ user: Json }>('POST', '/users', {
        user: {
          name: user.name,
          domain_id: 'default',
          email: user.email,
          enabled: true,
          password: `pw-${user.name}-${Date.now()}`,
        },
      });
      id = String(data.user.id);
    }
    await this.grant(projectId, id, 'member');
    return id;
  }

  async grant(projectId: string, userId: string, role: string): Promise<void> {
    const roleId = await this.idByName('roles', role);
    if (!roleId) throw new Error(`Keystone has no role ${role}`);
    await this.call('PUT', `/projects/${projectId}/users/${userId}/roles/${roleId}`);
  }

  /** The lab admin with the admin role on the project, scoped to it. */
  async adminSessionIn(projectName: string, projectId: string): Promise<KeystoneSession> {
    const admin = this.cloud.session.connection.auth.username ?? 'admin';
    const adminId = await this.idByName('users', admin);
    if (!adminId) throw new Error(`no Keystone user ${admin}`);
    await this.grant(projectId, adminId, 'admin');
    const base: Connection = this.cloud.session.connection;
    return new KeystoneSession(
      { ...base, auth: { ...base.auth, project_name: projectName, project_id: undefined } },
      { timeoutMs: 60_000 },
    );
  }

  async deleteByName(kind: 'projects' | 'users', name: string): Promise<void> {
    const id = await this.idByName(kind, name);
    if (id) await this.call('DELETE', `/${kind}/${id}`);
  }
}
