// One Keystone token for every Lambda container: each container's session takes the token
// another one left, sealed, in the shared state store (DynamoDB, here dynalite on 127.0.0.1),
// and only the same credentials can open it.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OpenStackCloud } from '../../drivers/cloud/openstack/nova.js';
import { KeystoneSession } from '../../drivers/cloud/openstack/session.js';
import { type SimulatedCloud, startSimulatedCloud } from '../../drivers/cloud/simulated/server.js';
import { type Dynalite, startDynalite } from '../support/dynalite.js';

let dynamo: Dynalite;
let sim: SimulatedCloud;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => dynamo?.close());
afterEach(async () => sim?.close());

/** A cold container: its own session, its own client on the shared table. */
function container(table: string, connection = sim.connection) {
  const session = new KeystoneSession(connection);
  session.shareTokensThrough(dynamo.store({ table }));
  return { session, cloud: new OpenStackCloud(session) };
}

describe('Keystone token shared through the state store', () => {
  it('five cold containers and their steps use one token', async () => {
    sim = await startSimulatedCloud({ evacuateMs: 50 });
    const table = await dynamo.newTable();
    const containers = Array.from({ length: 5 }, () => container(table));
    await containers[0]?.cloud.listComputeServices();
    await Promise.all(containers.slice(1).map((c) => c.cloud.listComputeServices()));
    expect(sim.state.counters.tokensIssued).toBe(1);
    expect(containers.map((c) => c.session.tokensIssued)).toEqual([1, 0, 0, 0, 0]);
  });

  it('keeps the token sealed: the table never holds it in clear, other credentials cannot open it', async () => {
    sim = await startSimulatedCloud({ evacuateMs: 50 });
    const table = await dynamo.newTable();
    const first = container(table);
    const token = (await first.session.getToken()).value;
    const items = await dynamo.scan(table);
    expect(items.length).toBe(1);
    expect(JSON.stringify(items)).not.toContain(token);
    expect(JSON.stringify(items)).not.toContain(String(sim.connection.auth.password));
    // The same user with another secret (rotated) derives another key: it asks Keystone itself.
    const rotated = { ...sim.connection, auth: { ...sim.connection.auth, password: 'rotated-password' } };
    const other = new KeystoneSession(rotated);
    other.shareTokensThrough(dynamo.store({ table }));
    await other.getToken().catch(() => undefined); // the simulated Keystone refuses the wrong password
    expect(other.tokensIssued).toBe(0);
    expect(sim.state.counters.tokensIssued).toBe(1);
  });

  it('a shared token Keystone revoked is replaced, and the replacement shared', async () => {
    sim = await startSimulatedCloud({ evacuateMs: 50 });
    const table = await dynamo.newTable();
    const a = container(table);
    await a.cloud.listComputeServices();
    sim.revokeTokens();
    const b = container(table);
    await b.cloud.listComputeServices(); // takes the shared token, gets 401, asks for a new one
    const c = container(table);
    await c.cloud.listComputeServices();
    expect(sim.state.counters.tokensIssued).toBe(2);
    expect(c.session.tokensIssued).toBe(0);
  });
});
