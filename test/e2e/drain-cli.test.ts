// `freezer-dr drain <host> [--dry-run]` and `freezer-dr restore <host>` against a running
// `npm start` (its simulated cloud, its executions): the dry run prints the plan and
// changes nothing; the drain empties the host through the server's drain state machine;
// restore re-enables a drained host at once (it never went down).
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import type { SimSnapshot } from '../../drivers/cloud/simulated/state.js';
import { drainStateMachineArn, stateMachineArn } from '../../engine/local-engine.js';
import { runCli, type ServeDir, type ServeProcess, serveDir, startServe } from '../support/serve-process.js';

const running: ServeProcess[] = [];
const dirs: ServeDir[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) await server.stop('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d.dir, { recursive: true, force: true });
});

const cloudOf = (where: ServeDir) =>
  JSON.parse(readFileSync(join(where.dir, 'simulated-cloud.json'), 'utf8')) as SimSnapshot;

describe('freezer-dr drain and restore', () => {
  it('dry run prints the plan and changes nothing; the drain empties the host; restore enables it again', async () => {
    const where = serveDir({ drain: { pollSeconds: 1 } });
    dirs.push(where);
    const server = await startServe(where);
    running.push(server);

    const dry = await runCli(where, server.url, ['drain', 'compute-2', '--dry-run']);
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('Drain plan for compute-2 (dry run: nothing was changed)');
    expect(dry.stdout).toMatch(
      /Disable: {2}"freezer-dr: drain; incident=drain-\d{8}T\d{6}Z reason=planned maintenance of compute-2/,
    );
    expect(dry.stdout.match(/live-migrate to compute-[13]/g)).toHaveLength(4);
    const before = cloudOf(where);
    expect(before.hosts.find((h) => h.name === 'compute-2')).toMatchObject({
      status: 'enabled',
      disabledReason: null,
    });
    expect(before.servers.filter((s) => s.host === 'compute-2')).toHaveLength(4);
    expect(before.migrations).toEqual([]);

    const drained = await runCli(where, server.url, [
      'drain',
      'compute-2',
      '--yes',
      '--reason',
      'DIMM replacement',
    ]);
    expect(drained.stderr).toBe('');
    expect(drained.code).toBe(0);
    expect(drained.stdout).toContain(`draining compute-2 through the freezer-dr serve at ${server.url}`);
    expect(drained.stdout).toMatch(/SUCCEEDED/);
    const after = cloudOf(where);
    const host = after.hosts.find((h) => h.name === 'compute-2');
    expect(host).toMatchObject({ status: 'disabled', forcedDown: false, power: 'on' });
    expect(host?.disabledReason).toMatch(/^freezer-dr: drain; incident=drain-\S+ reason=DIMM replacement$/);
    expect(after.servers.filter((s) => s.host === 'compute-2')).toEqual([]);
    expect(after.migrations.map((m) => [m.migrationType, m.status])).toEqual(
      Array.from({ length: 4 }, () => ['live-migration', 'completed']),
    );
    const client = server.sfn();
    const drains = (await client.send(new ListExecutionsCommand({ stateMachineArn: drainStateMachineArn })))
      .executions;
    expect(drains?.map((e) => [e.name?.split('--')[0], e.status])).toEqual([['compute-2', 'SUCCEEDED']]);
    expect((await client.send(new ListExecutionsCommand({ stateMachineArn }))).executions).toEqual([]);

    const listed = await runCli(where, server.url, ['executions', 'list', '--drains']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/compute-2--drain-\S+\s+compute-2\s+SUCCEEDED/);

    const restored = await runCli(where, server.url, ['restore', 'compute-2']);
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    expect(restored.stdout).toContain('compute-2 was drained by freezer-dr and never went down');
    expect(cloudOf(where).hosts.find((h) => h.name === 'compute-2')).toMatchObject({ status: 'enabled' });
  });

  it('refuses a dry run for a host Nova does not know, and a drain without a host', async () => {
    const where = serveDir();
    dirs.push(where);
    const server = await startServe(where);
    running.push(server);
    const missing = await runCli(where, server.url, ['drain', '--yes']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/missing required argument 'host'/);
    const unknown = await runCli(where, server.url, ['drain', 'compute-9', '--dry-run']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('Nova has no nova-compute service on host compute-9');
  });
});
