// `freezer-dr recover <host>`: through the running `npm start` when there is one (the run is
// the server's: on its cloud, in its executions list), else on the embedded engine in this
// process, saying plainly that the simulated cloud it acts on is its own. It never picks a
// host by itself.
import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DescribeExecutionCommand, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import type { SimSnapshot } from '../../drivers/cloud/simulated/state.js';
import { stateMachineArn } from '../../engine/local-engine.js';
import { runCli, type ServeDir, type ServeProcess, serveDir, startServe } from '../support/serve-process.js';

const running: ServeProcess[] = [];
const dirs: ServeDir[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) await server.stop('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d.dir, { recursive: true, force: true });
});

function scratch(): ServeDir {
  const where = serveDir();
  dirs.push(where);
  return where;
}

/** An address where nothing listens (a port just released). */
async function nobodyAt(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

describe('freezer-dr recover', () => {
  it('refuses to run without a host: nothing is powered off', async () => {
    const where = scratch();
    const result = await runCli(where, await nobodyAt(), ['recover', '--yes']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/missing required argument 'host'/);
    expect(result.stdout).not.toMatch(/recovering/);
  });

  it('recovers through the running server: its cloud, its executions list', async () => {
    const where = scratch();
    const server = await startServe(where);
    running.push(server);

    const result = await runCli(where, server.url, ['recover', 'compute-2', '--yes']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `recovering compute-2 in the SIMULATED cloud of the freezer-dr serve at ${server.url}`,
    );
    expect(result.stdout).toMatch(/host compute-2\s+SUCCEEDED/);

    const client = server.sfn();
    const listed = (await client.send(new ListExecutionsCommand({ stateMachineArn }))).executions ?? [];
    expect(listed.map((e) => e.name)).toEqual([expect.stringMatching(/^compute-2--manual-/)]);
    const described = await client.send(
      new DescribeExecutionCommand({ executionArn: listed[0]?.executionArn }),
    );
    expect(described.status).toBe('SUCCEEDED');

    // The served cloud is the one that changed: compute-2 forced down and emptied.
    const cloud = JSON.parse(readFileSync(join(where.dir, 'simulated-cloud.json'), 'utf8')) as SimSnapshot;
    expect(cloud.hosts.find((host) => host.name === 'compute-2')).toMatchObject({
      forcedDown: true,
      power: 'off',
    });
    expect(cloud.servers.filter((s) => s.host === 'compute-2')).toEqual([]);
  });

  it('with no server running, says it acts on a simulated cloud of its own', async () => {
    const where = scratch();
    const url = await nobodyAt();
    const result = await runCli(where, url, ['recover', 'compute-1', '--yes']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `no freezer-dr serve answers at ${url}: recovering compute-1 here, on the embedded engine, in a SIMULATED cloud of its own`,
    );
    expect(result.stdout).toMatch(/SUCCEEDED {2}compute-1: 4 of 4 instances recovered/);
  });

  it('prints its version', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    const result = await runCli(scratch(), await nobodyAt(), ['--version']);
    expect(result).toMatchObject({ code: 0, stdout: `${version}\n` });
  });
});
