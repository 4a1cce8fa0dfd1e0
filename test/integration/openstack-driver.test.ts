// The OpenStack driver against Keystone/Nova-shaped HTTP servers on 127.0.0.1:
// credentials as openstacksdk resolves them, token reuse and re-auth, pagination,
// microversion negotiation and the evacuate body per microversion.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CloudError } from '../../core/errors.js';
import { connectionFromCloudsYaml, resolveConnection } from '../../drivers/cloud/openstack/credentials.js';
import { evacuateBody, OpenStackCloud } from '../../drivers/cloud/openstack/nova.js';
import { type SimulatedCloud, startSimulatedCloud } from '../../drivers/cloud/simulated/server.js';

let sim: SimulatedCloud | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const users = [
  { name: 'admin', password: 's3cret-pass', project: 'admin', admin: true },
  { name: 'alice', password: 'alice-pass', project: 'demo', admin: false },
];

describe('credentials', () => {
  it('reads a named cloud from clouds.yaml and merges secure.yaml', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fdr-clouds-'));
    writeFileSync(
      join(dir, 'clouds.yaml'),
      'clouds:\n  lab:\n    region_name: RegionOne\n    auth:\n      auth_url: http://127.0.0.1:5000/v3\n      username: admin\n      project_name: admin\n      user_domain_name: Default\n',
    );
    writeFileSync(join(dir, 'secure.yaml'), 'clouds:\n  lab:\n    auth:\n      password: from-secure\n');
    const connection = resolveConnection(
      {},
      { OS_CLOUD: 'lab', OS_CLIENT_CONFIG_FILE: join(dir, 'clouds.yaml') },
    );
    expect(connection.auth.password).toBe('from-secure');
    expect(connection.region).toBe('RegionOne');
    expect(connection.authType).toBe('password');
  });

  it('takes OS_* variables, including application credentials', () => {
    const connection = resolveConnection(
      {},
      {
        OS_AUTH_URL: 'http://127.0.0.1:5000/v3',
        OS_AUTH_TYPE: 'v3applicationcredential',
        OS_APPLICATION_CREDENTIAL_ID: 'ac-id',
        OS_APPLICATION_CREDENTIAL_SECRET: 'ac-secret',
      },
    );
    expect(connection.authType).toBe('v3applicationcredential');
    expect(connection.auth.application_credential_id).toBe('ac-id');
  });

  it('names the missing field and never echoes a secret', () => {
    const yaml =
      'clouds:\n  bad:\n    auth:\n      auth_url: http://127.0.0.1:5000/v3\n      username: admin\n';
    expect(() => connectionFromCloudsYaml(yaml, 'bad')).toThrow(
      /needs auth.username \(or user_id\) and auth.password/,
    );
    expect(() => resolveConnection({}, {})).toThrow(/no OpenStack cloud configured/);
    const leaky =
      'clouds:\n  x:\n    auth:\n      auth_url: not-a-url\n      username: u\n      password: TopSecret123\n';
    expect(() => connectionFromCloudsYaml(leaky, 'x')).toThrow(/auth.auth_url/);
    try {
      connectionFromCloudsYaml(leaky, 'x');
    } catch (error) {
      expect((error as Error).message).not.toContain('TopSecret123');
    }
  });
});

describe('Keystone session', () => {
  it('authenticates with a password, reuses the token, and re-authenticates once on 401', async () => {
    sim = await startSimulatedCloud({ users });
    const cloud = new OpenStackCloud(sim.connection);
    await cloud.listComputeServices();
    await cloud.listComputeServices();
    await cloud.listServersOnHost('compute-1');
    expect(cloud.session.tokensIssued).toBe(1);
    sim.revokeTokens(); // token expired or revoked mid-run
    expect((await cloud.listComputeServices()).length).toBe(3);
    expect(cloud.session.tokensIssued).toBe(2);
  });

  it('authenticates with an application credential', async () => {
    sim = await startSimulatedCloud({
      users,
      appCredentials: [{ id: 'ac1', secret: 'ac-secret', user: 'admin' }],
    });
    const cloud = new OpenStackCloud({
      ...sim.connection,
      authType: 'v3applicationcredential',
      auth: {
        auth_url: sim.authUrl,
        application_credential_id: 'ac1',
        application_credential_secret: 'ac-secret',
      },
    });
    expect((await cloud.listComputeServices()).map((s) => s.host)).toContain('compute-2');
  });

  it('reports wrong credentials as Cloud.AuthFailed without the password', async () => {
    sim = await startSimulatedCloud({ users });
    const cloud = new OpenStackCloud({
      ...sim.connection,
      auth: { ...sim.connection.auth, password: 'wrong-Pa55' },
    });
    const error = (await cloud.listComputeServices().catch((e) => e)) as CloudError;
    expect(error.name).toBe('Cloud.AuthFailed');
    expect(error.message).not.toContain('wrong-Pa55');
  });

  it('classifies 5xx as transient and 4xx as rejected, with Nova’s message', async () => {
    sim = await startSimulatedCloud({ users });
    const cloud = new OpenStackCloud(sim.connection);
    sim.failNext('GET', /os-services/, 503);
    const transient = (await cloud.listComputeServices().catch((e) => e)) as CloudError;
    expect(transient.name).toBe('Cloud.Transient');
    expect(transient.httpStatus).toBe(503);
    const server = sim.state.addServer({ host: 'compute-2' });
    const rejected = (await cloud.evacuate(server.id).catch((e) => e)) as CloudError;
    expect(rejected.name).toBe('Cloud.Rejected');
    expect(rejected.message).toContain('Compute service of compute-2 is still in use.');
  });
});

describe('Nova pagination and microversions', () => {
  it('follows servers_links across pages and returns every server exactly once', async () => {
    sim = await startSimulatedCloud({ users, pageSizeCap: 7 });
    const ids = Array.from(
      { length: 45 },
      (_, i) => sim?.state.addServer({ host: 'compute-1', name: `p-${i}` }).id,
    );
    sim.state.addServer({ host: 'compute-2' });
    const cloud = new OpenStackCloud(sim.connection, { pageSize: 5 });
    const before = sim.state.counters.requests;
    const listed = await cloud.listServersOnHost('compute-1');
    expect(listed.map((s) => s.id).sort()).toEqual([...ids].sort());
    expect(sim.state.counters.requests - before).toBeGreaterThanOrEqual(10);
  });

  it('negotiates the microversion from the compute root, capped at the newest it knows', async () => {
    sim = await startSimulatedCloud({ users, maxMicroversion: '2.79' });
    expect((await new OpenStackCloud(sim.connection).capabilities()).microversion).toBe('2.79');
    await sim.close();
    sim = await startSimulatedCloud({ users, maxMicroversion: '2.99' });
    expect(await new OpenStackCloud(sim.connection).capabilities()).toEqual({
      microversion: '2.95',
      evacuateKeepsStopped: true,
    });
  });

  it('builds the evacuate body for each microversion range', () => {
    expect(evacuateBody('2.1')).toEqual({ evacuate: { onSharedStorage: true } });
    expect(evacuateBody('2.14')).toEqual({ evacuate: {} });
    expect(evacuateBody('2.29', 'compute-2')).toEqual({ evacuate: { host: 'compute-2', force: false } });
    expect(evacuateBody('2.68', 'compute-2')).toEqual({ evacuate: { host: 'compute-2' } });
    expect(evacuateBody('2.93')).toEqual({ evacuate: {} });
  });

  it('evacuates at an old microversion that still needs onSharedStorage', async () => {
    sim = await startSimulatedCloud({ users, maxMicroversion: '2.11', evacuateMs: 10 });
    const server = sim.state.addServer({ host: 'compute-1' });
    sim.state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    await new OpenStackCloud(sim.connection).evacuate(server.id);
    expect(sim.state.counters.evacuateAccepted.get(server.id)).toBe(1);
  });
});
