// Project users' addresses from Keystone v3 (the simulated Keystone answers in real v3
// shapes), with per-project overrides, role filters and the fallback to admins.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeystoneSession } from '../../drivers/cloud/openstack/session.js';
import { type SimulatedCloud, startSimulatedCloud } from '../../drivers/cloud/simulated/server.js';
import {
  type IdentityDirectory,
  KeystoneDirectory,
  type RecipientPolicy,
  RecipientResolver,
} from '../../drivers/notifier/recipients.js';
import { PROJECTS, seedIdentity } from '../support/notify-fixtures.js';

let sim: SimulatedCloud;
beforeEach(async () => {
  sim = await startSimulatedCloud({ hosts: ['compute-1'] });
  seedIdentity(sim.identity);
});
afterEach(async () => sim.close());

const policy = (extra: Partial<RecipientPolicy> = {}): RecipientPolicy => ({
  admins: ['ops@cloud.example'],
  overrides: {},
  roles: null,
  excludeUsers: [],
  ...extra,
});
const directory = () => new KeystoneDirectory(new KeystoneSession(sim.connection));

describe('Keystone v3 response shapes (simulated Keystone)', () => {
  it('lists effective role assignments with names, expanding groups the way Keystone does', async () => {
    const session = new KeystoneSession(sim.connection);
    const { data } = await session.request<{ role_assignments: Record<string, unknown>[]; links: unknown }>({
      service: 'identity',
      path: `/role_assignments?scope.project.id=${PROJECTS.alpha}&include_names=true&effective=true`,
    });
    expect(data.links).toMatchObject({ next: null, previous: null });
    const bob = data.role_assignments.find((r) => (r.user as { name?: string } | undefined)?.name === 'bob');
    expect(bob).toMatchObject({
      role: { name: 'member' },
      scope: { project: { id: PROJECTS.alpha, name: 'alpha', domain: { id: 'default', name: 'Default' } } },
      user: { id: 'u-bob', name: 'bob', domain: { id: 'default' } },
      links: { membership: expect.stringContaining('/v3/groups/g-alpha-devs/users/u-bob') },
    });
    const direct = await session.request<{ role_assignments: Record<string, unknown>[] }>({
      service: 'identity',
      path: `/role_assignments?scope.project.id=${PROJECTS.alpha}`,
    });
    expect(direct.data.role_assignments.some((r) => 'group' in r)).toBe(true);
    const user = await session.request<{ user: Record<string, unknown> }>({
      service: 'identity',
      path: '/users/u-alice',
    });
    expect(user.data.user).toMatchObject({
      id: 'u-alice',
      name: 'alice',
      email: 'alice@alpha.example',
      enabled: true,
    });
    const noEmail = await session.request<{ user: Record<string, unknown> }>({
      service: 'identity',
      path: '/users/u-dave',
    });
    expect('email' in noEmail.data.user).toBe(false);
  });
});

describe('RecipientResolver with Keystone', () => {
  it("finds a project's users with an email: direct and through groups, enabled only", async () => {
    const resolver = new RecipientResolver(policy(), directory());
    const alpha = await resolver.forProject(PROJECTS.alpha);
    expect(alpha).toMatchObject({ projectName: 'alpha', source: 'keystone', note: null });
    expect(alpha.addresses.sort()).toEqual([
      'alice@alpha.example',
      'bob@alpha.example',
      'nova@cloud.example',
      'rita@alpha.example',
    ]);
  });

  it('filters by role and excludes service accounts', async () => {
    const resolver = new RecipientResolver(
      policy({ roles: ['Member', 'admin'], excludeUsers: ['nova'] }),
      directory(),
    );
    const alpha = await resolver.forProject(PROJECTS.alpha);
    expect(alpha.addresses.sort()).toEqual(['alice@alpha.example', 'bob@alpha.example']);
  });

  it('uses the per-project override list, by project id or by name, instead of Keystone', async () => {
    const resolver = new RecipientResolver(
      policy({
        overrides: { [PROJECTS.beta]: ['team@beta.example'], alpha: ['alpha-oncall@alpha.example'] },
      }),
      directory(),
    );
    expect(await resolver.forProject(PROJECTS.beta)).toMatchObject({
      addresses: ['team@beta.example'],
      source: 'override',
      projectName: 'beta',
    });
    expect(await resolver.forProject(PROJECTS.alpha)).toMatchObject({
      addresses: ['alpha-oncall@alpha.example'],
      source: 'override',
    });
  });

  it('falls back to the admins, saying why, when a project has no address', async () => {
    const resolver = new RecipientResolver(policy(), directory());
    const gamma = await resolver.forProject(PROJECTS.gamma);
    expect(gamma).toMatchObject({ source: 'admins', addresses: ['ops@cloud.example'], projectName: 'gamma' });
    expect(gamma.note).toMatch(/none of its 1 user\(s\) has an email address/);
    const empty = await resolver.forProject('p-empty');
    expect(empty).toMatchObject({ source: 'admins', projectName: 'empty' });
    expect(empty.note).toMatch(/no users/);
  });

  it('looks each user and project up once per run', async () => {
    const resolver = new RecipientResolver(policy(), directory());
    await Promise.all([resolver.forProject(PROJECTS.alpha), resolver.forProject(PROJECTS.beta)]);
    await resolver.forProject(PROJECTS.alpha);
    const requests = sim.identity.requests;
    expect(requests.filter((r) => r === '/v3/users/u-bob')).toHaveLength(1);
    expect(requests.filter((r) => r.startsWith('/v3/role_assignments'))).toHaveLength(2);
    // A new run (new resolver) asks again.
    await new RecipientResolver(policy(), directory()).forProject(PROJECTS.alpha);
    expect(sim.identity.requests.filter((r) => r === '/v3/users/u-bob')).toHaveLength(2);
  });

  it('retries a Keystone blip, then falls back to the admins when Keystone stays down', async () => {
    sim.failNext('GET', /role_assignments/, 503, 1);
    const once = await new RecipientResolver(policy(), directory()).forProject(PROJECTS.alpha);
    expect(once.source).toBe('keystone');

    sim.failNext('GET', /role_assignments/, 503, 10);
    const down = await new RecipientResolver(policy(), directory()).forProject(PROJECTS.alpha);
    expect(down).toMatchObject({ source: 'admins', addresses: ['ops@cloud.example'] });
    expect(down.note).toMatch(/Keystone lookup of its users failed: .*HTTP 503/);
  });

  it('does not retry a refusal (credentials without the admin role)', async () => {
    const other = await startSimulatedCloud({
      hosts: ['compute-1'],
      users: [{ name: 'viewer', password: 'viewer-pass', project: 'demo', admin: false }],
    });
    try {
      const keystone = new KeystoneDirectory(new KeystoneSession(other.connection));
      let asked = 0;
      const counted: IdentityDirectory = {
        projectMembers: (id) => {
          asked += 1;
          return keystone.projectMembers(id);
        },
        user: (id) => keystone.user(id),
        projectName: (id) => keystone.projectName(id),
      };
      const result = await new RecipientResolver(policy(), counted).forProject(PROJECTS.alpha);
      expect(result.source).toBe('admins');
      expect(result.note).toMatch(/HTTP 403/);
      expect(asked).toBe(1);
    } finally {
      await other.close();
    }
  });

  it('works with catalogs that list the identity endpoint without /v3', async () => {
    const paths: string[] = [];
    const session = {
      endpoint: async () => 'https://keystone.example:5000',
      request: async ({ path }: { path: string }) => {
        paths.push(path);
        return {
          data: path.startsWith('/v3/users/')
            ? { user: { id: 'u1', email: 'x@y.example' } }
            : { role_assignments: [{ user: { id: 'u1' }, role: { name: 'member' } }], links: { next: null } },
        };
      },
    };
    const resolver = new RecipientResolver(policy(), new KeystoneDirectory(session as never));
    expect((await resolver.forProject('p1')).addresses).toEqual(['x@y.example']);
    expect(paths[0]).toMatch(
      /^\/v3\/role_assignments\?scope\.project\.id=p1&include_names=true&effective=true$/,
    );
    expect(paths).toContain('/v3/users/u1');
  });

  it('without Keystone, uses overrides and otherwise the admins', async () => {
    const resolver = new RecipientResolver(
      policy({ overrides: { [PROJECTS.beta]: ['team@beta.example'] } }),
      null,
    );
    expect((await resolver.forProject(PROJECTS.beta)).source).toBe('override');
    expect(await resolver.forProject(PROJECTS.alpha)).toMatchObject({ source: 'admins' });
  });
});
