// What one report costs, counted rather than timed: SMTP connections, Keystone and Nova
// requests. One admin and two tenant messages share one SMTP connection; each project's
// users are asked of Keystone once, each user once; a failed fence's report lists the host
// once and reads no instance again. A Keystone that never answers delays no message past
// tenants.keystone.deadlineMs: those projects' messages go to the admins with a note.
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import { deliverReport } from '../../core/deliver-report.js';
import { notify } from '../../core/notify.js';
import type { RecoveryReport } from '../../core/ports.js';
import { type SimulatedCloud, startSimulatedCloud } from '../../drivers/cloud/simulated/server.js';
import { createEmailNotifier, EmailNotifier, emailNotifierSchema } from '../../drivers/notifier/email.js';
import { createRuntime } from '../../engine/runtime.js';
import { silentLogger } from '../support/capture-logger.js';
import { quietLogger } from '../support/harness.js';
import { type SmtpSink, startSmtpSink } from '../support/notify-fixtures.js';

let sim: SimulatedCloud | undefined;
let smtp: SmtpSink | undefined;
afterEach(async () => {
  await sim?.close();
  await smtp?.close();
  sim = undefined;
  smtp = undefined;
});

/** An SMTP sink that counts the connections it accepts. */
async function countingSink(): Promise<{ sink: SmtpSink; connections: () => number }> {
  let connections = 0;
  const sink = await startSmtpSink({
    onConnect: (_session, callback) => {
      connections += 1;
      callback();
    },
  });
  return { sink, connections: () => connections };
}

/** Two projects, two users each (one user in both), three instances on compute-1. */
async function cloudWithTenants(): Promise<SimulatedCloud> {
  const cloud = await startSimulatedCloud({ hosts: ['compute-1', 'compute-2'] });
  const { identity, state } = cloud;
  identity.addProject({ id: 'p-shop', name: 'shop' });
  identity.addProject({ id: 'p-lab', name: 'lab' });
  for (const [id, email] of [
    ['u-ann', 'ann@shop.example'],
    ['u-bo', 'bo@shop.example'],
    ['u-lee', 'lee@lab.example'],
  ] as const)
    identity.addUser({ id, name: id.slice(2), email });
  identity.assign({ projectId: 'p-shop', role: 'member', userId: 'u-ann' });
  identity.assign({ projectId: 'p-shop', role: 'member', userId: 'u-bo' });
  identity.assign({ projectId: 'p-lab', role: 'member', userId: 'u-lee' });
  identity.assign({ projectId: 'p-lab', role: 'member', userId: 'u-bo' });
  state.addServer({ host: 'compute-1', name: 'shop-web', projectId: 'p-shop' });
  state.addServer({ host: 'compute-1', name: 'shop-db', projectId: 'p-shop' });
  state.addServer({ host: 'compute-1', name: 'lab-notebook', projectId: 'p-lab' });
  return cloud;
}

const emailOptions = (port: number, extra: Record<string, unknown> = {}) =>
  emailNotifierSchema.parse({
    driver: 'email',
    from: 'freezer-dr@cloud.example',
    admins: ['ops@cloud.example'],
    smtp: { host: '127.0.0.1', port, security: 'none' },
    retry: { attempts: 1 },
    ...extra,
  });

describe('the cost of one report', () => {
  it('a failed fence: one list of the host from Nova, one SMTP connection for the admin and both projects, each project and user asked of Keystone once', async () => {
    sim = await cloudWithTenants();
    const counted = await countingSink();
    smtp = counted.sink;
    const email = createEmailNotifier(emailOptions(smtp.port), {
      logger: silentLogger as never,
      env: {},
      simulated: sim,
    });
    const config = parseConfig({ cloud: { driver: 'simulated' }, fencer: { driver: 'simulated' } });
    const rt = await createRuntime(config, { simulated: sim, logger: quietLogger(), notifiers: [email] });
    const nova: string[] = [];
    const cloud = rt.cloud;
    const watched = Object.create(cloud) as typeof cloud;
    watched.listServersOnHost = (host: string) => {
      nova.push(`list ${host}`);
      return cloud.listServersOnHost(host);
    };
    watched.getServer = (id: string) => {
      nova.push(`get ${id}`);
      return cloud.getServer(id);
    };

    const result = await notify(
      { ...rt, cloud: watched },
      {
        kind: 'fencing-failed',
        host: 'compute-1',
        incident: 'compute-1-x',
        cause: 'NovaComputeDown',
        requestedAt: new Date().toISOString(),
        error: { Error: 'Fence.NotVerified', Cause: 'power reads on' },
      },
    );

    expect(result).toMatchObject({ delivered: 1, failed: 0 });
    expect(nova).toEqual(['list compute-1']);
    expect(smtp.messages.map((m) => m.headers.get('x-freezer-dr-project') ?? 'admin').sort()).toEqual([
      'admin',
      'p-lab',
      'p-shop',
    ]);
    expect(counted.connections()).toBe(1);
    const asked = sim.identity.requests;
    expect(asked.filter((r) => r.startsWith('/v3/role_assignments')).sort()).toEqual([
      expect.stringContaining('scope.project.id=p-lab'),
      expect.stringContaining('scope.project.id=p-shop'),
    ]);
    // bo is in both projects: asked once.
    expect(asked.filter((r) => r.startsWith('/v3/users/')).sort()).toEqual([
      '/v3/users/u-ann',
      '/v3/users/u-bo',
      '/v3/users/u-lee',
    ]);
    expect(asked).toHaveLength(5);
    expect(sim.state.counters.tokensIssued).toBe(1);
  });

  it('a Keystone that never answers: the admins and both projects are written to at the deadline, the projects via the admins, with why', async () => {
    sim = await cloudWithTenants();
    const counted = await countingSink();
    smtp = counted.sink;
    let asked = 0;
    const never = () => {
      asked += 1;
      return new Promise<never>(() => undefined);
    };
    const email = new EmailNotifier(emailOptions(smtp.port, { tenants: { keystone: { deadlineMs: 200 } } }), {
      logger: silentLogger,
      env: {},
      directory: () => ({ projectMembers: never, user: never, projectName: never }),
    });
    const report: RecoveryReport = {
      kind: 'recovery',
      host: 'compute-1',
      incident: 'compute-1-y',
      executionName: null,
      executionUrl: null,
      cause: 'NovaComputeDown',
      fence: null,
      timeline: [],
      instances: [...sim.state.servers.values()].map((s) => ({
        id: s.id,
        name: s.name,
        projectId: s.projectId,
        outcome: 'recovered',
        fromHost: 'compute-1',
        toHost: 'compute-2',
        priorStatus: null,
        finalStatus: 'ACTIVE',
        seconds: 3,
        reason: null,
      })),
      counts: { selected: 3, recovered: 3, failed: 0, skipped: 0 },
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
    };

    const [result] = await deliverReport([email], report);

    expect(result).toMatchObject({ ok: true, attempts: 1 });
    expect(asked).toBe(2); // one lookup per project, each left behind at the deadline
    expect(counted.connections()).toBe(1);
    expect(smtp.messages).toHaveLength(3);
    for (const project of ['p-shop', 'p-lab']) {
      const message = smtp.messages.find((m) => m.headers.get('x-freezer-dr-project') === project);
      expect(message?.to).toEqual(['ops@cloud.example']);
      expect(message?.text).toContain('the Keystone lookup of its users did not finish within 0.2 s');
    }
  });
});
