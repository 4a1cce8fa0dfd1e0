// `freezer-dr reconcile` against a running `freezer-dr serve` (simulated cloud, local
// Step Functions endpoint): after a finished recovery it finds the host waiting for
// restore and changes nothing; a dry run says so.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeExecutionCommand, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import { stateMachineArn } from '../../engine/local-engine.js';
import {
  runCli,
  type ServeDir,
  type ServeProcess,
  serveDir,
  startServe,
  until,
} from '../support/serve-process.js';

let server: ServeProcess | null = null;
let where: ServeDir | null = null;
afterEach(async () => {
  await server?.stop('SIGKILL');
  if (where) rmSync(where.dir, { recursive: true, force: true });
  server = null;
  where = null;
});

describe('freezer-dr reconcile', () => {
  it('after a finished recovery: the host waits for restore, nothing is started or changed', async () => {
    where = serveDir({ cloud: { evacuateMs: 200 } });
    server = await startServe(where);
    expect((await runCli(where, server.url, ['fire', 'compute-1'])).code).toBe(0);
    const client = server.sfn();
    const [execution] = (await client.send(new ListExecutionsCommand({ stateMachineArn }))).executions ?? [];
    await until(
      () => client.send(new DescribeExecutionCommand({ executionArn: execution?.executionArn ?? '' })),
      (d) => d.status === 'SUCCEEDED',
    );
    const cloud = () => readFileSync(join(where?.dir ?? '', 'simulated-cloud.json'), 'utf8');
    const before = cloud();

    const dry = await runCli(where, server.url, ['reconcile', '--dry-run']);
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('dry run: nothing was changed');
    expect(dry.stdout).toMatch(/compute-1\s+\S+\s+awaiting-restore\s+0/);

    const real = await runCli(where, server.url, ['reconcile']);
    expect(real.code).toBe(0);
    expect(real.stdout).toMatch(
      /1 host taken down by freezer-dr, 0 resumed, 0 in recovery, 1 awaiting restore/,
    );
    expect((await client.send(new ListExecutionsCommand({ stateMachineArn }))).executions).toHaveLength(1);
    expect(JSON.parse(cloud()).servers).toEqual(JSON.parse(before).servers);
  });
});
