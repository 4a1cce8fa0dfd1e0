// Active/passive on one data directory: the second `freezer-dr serve` waits passive while
// the first holds the lease, says who holds it, and takes over when the holder is killed
// (kill -9), re-driving the recovery the dead one left running, evacuating nothing twice;
// a clean stop hands over at once.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
} from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import type { SimSnapshot } from '../../drivers/cloud/simulated/state.js';
import { stateMachineArn } from '../../engine/local-engine.js';
import { ServeLease } from '../../engine/serve-lease.js';
import {
  runCli,
  type ServeChild,
  type ServeDir,
  serveDir,
  spawnServe,
  until,
} from '../support/serve-process.js';

const children: ServeChild[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) await child.stop('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), 'freezer-dr-lease-'));
  dirs.push(dir);
  return dir;
};

describe('the lease on a data directory', () => {
  it('is held by one instance at a time; the other sees who holds it', () => {
    const dir = scratch();
    const first = new ServeLease(dir, { ttlMs: 60_000, port: 8420 });
    const second = new ServeLease(dir, { ttlMs: 60_000, port: 8421 });
    try {
      expect(first.tryAcquire()).toEqual({ taken: true, previous: null });
      const refused = second.tryAcquire();
      expect(refused).toMatchObject({
        taken: false,
        holder: { pid: process.pid, host: hostname(), port: 8420 },
      });
      expect(first.renew({ port: 8420, url: 'http://127.0.0.1:8420' })).toBe(true);
      expect(second.tryAcquire().taken).toBe(false);
      expect(second.renew()).toBe(false); // renewing is not taking
    } finally {
      first.close();
      second.close();
    }
  });

  it('goes to another instance once it expires, and the old holder learns it lost it', async () => {
    const dir = scratch();
    const first = new ServeLease(dir, { ttlMs: 1, port: 8420 });
    const second = new ServeLease(dir, { ttlMs: 60_000, port: 8421 });
    try {
      expect(first.tryAcquire().taken).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 20)); // past the 1 ms lease
      const taken = second.tryAcquire();
      expect(taken).toMatchObject({ taken: true, previous: { holder: { port: 8420 } } });
      expect(taken.taken && taken.previous?.why).toMatch(/lease expired/);
      expect(first.renew()).toBe(false);
      expect(first.tryAcquire().taken).toBe(false); // 60 s lease, renewed: held
    } finally {
      first.close();
      second.close();
    }
  });

  it('is free at once when its holder gives it up', () => {
    const dir = scratch();
    const first = new ServeLease(dir, { ttlMs: 60_000, port: 8420 });
    const second = new ServeLease(dir, { ttlMs: 60_000, port: 8421 });
    try {
      first.tryAcquire();
      first.release();
      expect(second.tryAcquire()).toEqual({ taken: true, previous: null });
      first.release(); // not the holder any more: changes nothing
      expect(second.holder()?.port).toBe(8421);
    } finally {
      first.close();
      second.close();
    }
  });
});

const cloud = (where: ServeDir) =>
  JSON.parse(readFileSync(join(where.dir, 'simulated-cloud.json'), 'utf8')) as SimSnapshot;

function serve(where: ServeDir): ServeChild {
  const child = spawnServe(where);
  children.push(child);
  return child;
}

describe('two freezer-dr serve on one data directory', () => {
  it('runs one active, one passive; kill -9 of the active hands its running recovery to the other', {
    timeout: 180_000,
  }, async () => {
    const where = serveDir({ cloud: { evacuateMs: 4000 } });
    dirs.push(where.dir);
    const active = serve(where);
    const url = await active.ready(60_000);

    const passive = serve(where);
    const [said] = await passive.waitFor(/passive: .*/, 60_000);
    expect(said).toContain(
      `is held by pid ${active.pid} on host ${hostname()}, port ${new URL(url).port} (${url})`,
    );
    expect(said).toMatch(/active since \d{4}-\d\d-\d\dT/);
    expect(passive.output()).not.toMatch(/ready in|Step Functions API/);

    // A recovery under way on the active one: every evacuation accepted, none finished.
    expect((await runCli(where, url, ['fire', 'compute-1'])).code).toBe(0);
    const client = active.sfn(url);
    const [execution] = (await client.send(new ListExecutionsCommand({ stateMachineArn }))).executions ?? [];
    const arn = execution?.executionArn ?? '';
    await until(
      () => client.send(new GetExecutionHistoryCommand({ executionArn: arn })),
      (h) =>
        (h.events ?? []).filter(
          (e) => e.type === 'TaskStateExited' && e.stateExitedEventDetails?.name === 'EvacuateInstance',
        ).length === 4,
      60_000,
    );
    await active.stop('SIGKILL');

    // The passive one sees the holder's process gone, takes over, and finishes what it left.
    const taken = await passive.ready(60_000);
    expect(passive.output()).toContain(`taking over ${where.dir} from pid ${active.pid}`);
    expect(passive.output()).toContain(`pid ${active.pid} is gone`);
    expect(passive.output()).toContain(`re-driving ${execution?.name}, left RUNNING by the last run`);
    const client2 = passive.sfn(taken);
    const done = await until(
      () => client2.send(new DescribeExecutionCommand({ executionArn: arn })),
      (d) => d.status !== 'RUNNING',
      60_000,
    );
    expect(done.status).toBe('SUCCEEDED');
    const accepted = new Map(cloud(where).counters.evacuateAccepted);
    expect([...accepted.values()]).toEqual([1, 1, 1, 1]);

    // A third one waits behind the new holder; a clean stop of that one hands over at once.
    const third = serve(where);
    const [behind] = await third.waitFor(/passive: .*/, 60_000);
    expect(behind).toContain(`is held by pid ${passive.pid}`);
    await passive.stop('SIGTERM');
    await third.ready(60_000);
    expect(third.output()).not.toContain('taking over'); // given up, not taken from
    expect(third.output()).not.toContain('re-driving');
  });
});
