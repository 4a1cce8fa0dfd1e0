// `npm start`'s stack as a real process: an alert through the webhook becomes a recovery
// that @aws-sdk/client-sfn sees on the local endpoint; a server killed mid-recovery and
// started again finishes it with no instance evacuated twice.
//
// The simulated cloud lives inside the server process but keeps its state in the data
// directory (drivers/cloud/simulated/persistence.ts), written before each simulated API
// answer; a restarted server finds the cloud as it was, rebuilds under way included, the
// way a real Nova outlives freezer-dr. The test reads that file for the cloud's truth.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  type DescribeExecutionOutput,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  paginateGetExecutionHistory,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import { recoveryTimeline } from '../../core/recovery-timeline.js';
import type { SimSnapshot } from '../../drivers/cloud/simulated/state.js';
import { loadDefinition } from '../../engine/definition.js';
import { stateMachineArn } from '../../engine/local-engine.js';
import {
  runCli,
  type ServeDir,
  type ServeProcess,
  serveDir,
  startServe,
  until,
} from '../support/serve-process.js';

const TOP_LEVEL = new Set(Object.keys(loadDefinition().States as object));
const running: ServeProcess[] = [];
const dirs: ServeDir[] = [];

afterEach(async () => {
  for (const server of running.splice(0)) await server.stop('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d.dir, { recursive: true, force: true });
});

async function serve(where: ServeDir): Promise<ServeProcess> {
  const server = await startServe(where);
  running.push(server);
  return server;
}

async function stopServe(server: ServeProcess, signal: NodeJS.Signals): Promise<void> {
  running.splice(running.indexOf(server), 1);
  await server.stop(signal);
}

const cloud = (where: ServeDir) =>
  JSON.parse(readFileSync(join(where.dir, 'simulated-cloud.json'), 'utf8')) as SimSnapshot;

async function history(client: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  for await (const page of paginateGetExecutionHistory({ client }, { executionArn }))
    events.push(...(page.events ?? []));
  return events;
}

const finished = (client: SFNClient, executionArn: string) =>
  until<DescribeExecutionOutput>(
    () => client.send(new DescribeExecutionCommand({ executionArn })),
    (d) => d.status !== 'RUNNING',
  );

describe('freezer-dr serve (npm start) as a process', () => {
  it('an alert fired at the webhook becomes a recovery visible through @aws-sdk/client-sfn and the page', async () => {
    const where = serveDir({ cloud: { evacuateMs: 300 } });
    dirs.push(where);
    const server = await serve(where);
    expect(server.output()).toContain('npm run freezer-dr -- fire compute-1');

    const fired = await runCli(where, server.url, ['fire', 'compute-1']);
    expect(fired.stderr).toBe('');
    expect(fired.code).toBe(0);
    expect(fired.stdout).toContain('SIMULATED failure');
    expect(fired.stdout).toMatch(/HTTP 202/);
    expect(fired.stdout).toMatch(/compute-1: started/);

    const client = server.sfn();
    const list = await client.send(new ListExecutionsCommand({ stateMachineArn }));
    expect(list.executions).toHaveLength(1);
    const [execution] = list.executions ?? [];
    expect(execution?.name).toMatch(/^compute-1--/);
    const done = await finished(client, execution?.executionArn ?? '');
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.input ?? '{}')).toMatchObject({ host: 'compute-1' });

    const events = await history(client, execution?.executionArn ?? '');
    expect(events[0]?.type).toBe('ExecutionStarted');
    expect(events.at(-1)?.type).toBe('ExecutionSucceeded');
    const timeline = recoveryTimeline(events, TOP_LEVEL);
    expect(timeline.stages.map((s) => s.name).slice(0, 6)).toEqual([
      'ConfirmHostFailure',
      'FenceHost',
      'VerifyPowerOff',
      'MarkHostDown',
      'SelectInstances',
      'PlanTargets',
    ]);
    expect(timeline.stages.map((s) => s.name)).toContain('EvacuateInstances');
    expect(timeline.instances).toHaveLength(4);
    for (const instance of timeline.instances) {
      expect(instance).toMatchObject({ from: 'compute-1', state: 'recovered', final: 'ACTIVE' });
      expect(instance.to).toMatch(/^compute-[23]$/);
    }

    // The same alert again is the same incident: already handled, nothing new started.
    const again = await runCli(where, server.url, ['fire', 'compute-1', '--no-fail']);
    expect(again.code).toBe(0);
    expect((await client.send(new ListExecutionsCommand({ stateMachineArn }))).executions).toHaveLength(1);

    const page = await (
      await fetch(`${server.url}/executions/${encodeURIComponent(execution?.name ?? '')}`)
    ).text();
    expect(page).toContain('SUCCEEDED');
    expect(page.match(/<td>compute-1<\/td>/g)).toHaveLength(4);

    const shown = await runCli(where, server.url, ['executions', 'show']);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/✓ EvacuateInstances/);
    const listed = await runCli(where, server.url, ['executions', 'list', '--status', 'succeeded']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/compute-1--\S+\s+compute-1\s+SUCCEEDED/);
    const watched = await runCli(where, server.url, ['executions', 'watch', execution?.name ?? '']);
    expect(watched.code).toBe(0);
    expect(watched.stdout).toMatch(/compute-1 → compute-[23]\s+recovered/);
    expect(watched.stdout).toMatch(/host compute-1\s+SUCCEEDED/);
  });

  it('killed mid-recovery and started again, it finishes the recovery without evacuating anything twice', {
    timeout: 180_000,
  }, async () => {
    // Rebuilds that cannot land before the kill, however slow the machine; the restarted
    // server (its config rewritten below) lands them in 300 ms.
    const where = serveDir({ cloud: { evacuateMs: 3_600_000 } });
    dirs.push(where);
    const first = await serve(where);
    const onHost = cloud(where)
      .servers.filter((s) => s.host === 'compute-1')
      .map((s) => s.id);
    expect(onHost).toHaveLength(4);
    expect((await runCli(where, first.url, ['fire', 'compute-1'])).code).toBe(0);

    const client = first.sfn();
    const [execution] = (await client.send(new ListExecutionsCommand({ stateMachineArn }))).executions ?? [];
    const arn = execution?.executionArn ?? '';
    // Kill once every evacuation was accepted and none has finished.
    await until(
      () => client.send(new GetExecutionHistoryCommand({ executionArn: arn })),
      (h) =>
        (h.events ?? []).filter(
          (e) => e.type === 'TaskStateExited' && e.stateExitedEventDetails?.name === 'EvacuateInstance',
        ).length === 4,
    );
    await stopServe(first, 'SIGKILL');
    const atKill = cloud(where);
    expect(atKill.servers.filter((s) => onHost.includes(s.id) && s.taskState === 'rebuilding')).toHaveLength(
      4,
    );
    expect(new Map(atKill.counters.evacuateAccepted).size).toBe(4);

    const config = readFileSync(where.configPath, 'utf8');
    expect(config).toContain('evacuateMs: 3600000');
    writeFileSync(where.configPath, config.replace('evacuateMs: 3600000', 'evacuateMs: 300'));
    const restartedAt = Date.now();
    const second = await serve(where);
    expect(second.output()).toContain(
      `re-driving ${execution?.name}, left RUNNING by the last run, from EvacuateInstances`,
    );
    const client2 = second.sfn();
    const done = await finished(client2, arn);
    const resumeMs = Date.now() - restartedAt;
    expect(done.status).toBe('SUCCEEDED');
    expect(done.redriveCount).toBe(1);
    console.log(
      `restart → SUCCEEDED: ${resumeMs} ms (serve ready in ${second.readyMs} ms; rebuilds take 300 ms)`,
    );

    const events = await history(client2, arn);
    const types = events.map((e) => e.type);
    expect(types.filter((t) => t === 'ExecutionStarted')).toHaveLength(1);
    expect(types.filter((t) => t === 'ExecutionRedriven')).toHaveLength(1);
    expect(types.at(-1)).toBe('ExecutionSucceeded');
    const timeline = recoveryTimeline(events, TOP_LEVEL);
    expect(timeline.redrives).toHaveLength(1);
    expect(timeline.instances.map((i) => i.id).sort()).toEqual([...onHost].sort());
    // Landed before or after the re-driven run reached it (the restored rebuilds go on as
    // the server starts): either way recovered, and evacuated once (below).
    for (const instance of timeline.instances) expect(instance.state).toMatch(/^(already-)?recovered$/);

    await stopServe(second, 'SIGTERM');
    const after = cloud(where);
    const accepted = new Map(after.counters.evacuateAccepted);
    for (const id of onHost) {
      expect(accepted.get(id), id).toBe(1);
      const server = after.servers.find((s) => s.id === id);
      expect(server?.host).not.toBe('compute-1');
      expect(server).toMatchObject({ vmState: 'active', taskState: null, locked: false });
    }
    expect(accepted.size).toBe(4);
    expect(new Map(after.counters.powerOffCalls).get('compute-1')).toBe(1);
    expect(after.unsafeEvacuations).toBe(0);
  });

  it('plan, hosts and restore act on the served simulated cloud; plan changes nothing; errors are one line', async () => {
    const where = serveDir({ cloud: { evacuateMs: 200 } });
    dirs.push(where);
    const server = await serve(where);
    expect((await runCli(where, server.url, ['fire', 'compute-1'])).code).toBe(0);
    const client = server.sfn();
    const [execution] = (await client.send(new ListExecutionsCommand({ stateMachineArn }))).executions ?? [];
    expect((await finished(client, execution?.executionArn ?? '')).status).toBe('SUCCEEDED');

    const hosts = await runCli(where, server.url, ['hosts']);
    expect(hosts.code).toBe(0);
    expect(hosts.stdout).toMatch(
      /compute-1 +nova +disabled +down +yes .*freezer-dr \(incident .*simulated BMC of compute-1/,
    );

    const file = join(where.dir, 'simulated-cloud.json');
    const before = readFileSync(file, 'utf8');
    const plan = await runCli(where, server.url, ['plan', 'compute-2']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('dry run: nothing was changed');
    expect(plan.stdout).toMatch(/Capacity: room for all/);
    expect(readFileSync(file, 'utf8')).toBe(before);

    const restore = await runCli(where, server.url, ['restore', 'compute-1', '--poll-ms', '100']);
    expect(restore.stderr).toBe('');
    expect(restore.code).toBe(0);
    expect(restore.stdout).toMatch(/4 evacuations from compute-1 completed/);
    expect(restore.stdout).toMatch(/compute-1 enabled/);
    expect(cloud(where).hosts.find((h) => h.name === 'compute-1')).toMatchObject({
      forcedDown: false,
      status: 'enabled',
      power: 'on',
      alive: true,
    });

    const refused = await runCli(where, server.url, ['recover', 'compute-2']);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/refusing without --yes/);
    const missing = await runCli(where, server.url, ['executions', 'show', 'no-such-execution']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toMatch(/^freezer-dr: ExecutionDoesNotExist: .*no-such-execution'$/);
    const unknownHost = await runCli(where, server.url, ['restore', 'compute-9']);
    expect(unknownHost.code).toBe(1);
    expect(unknownHost.stderr.trim()).toMatch(/^freezer-dr: .*compute-9/);
    expect((await runCli(where, server.url, ['check-config'])).code).toBe(0);
  });

  it('without a running server the CLI says how to start one, in one line', async () => {
    const where = serveDir();
    dirs.push(where);
    // A port nothing listens on: bind one, then let it go.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const closed = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const result = await runCli(where, closed, ['executions', 'list']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      `freezer-dr: nothing answers at ${closed}: start it with \`npm start\` (or point SFN_ENDPOINT / FREEZER_DR_URL at it)`,
    );
    const hosts = await runCli(where, closed, ['hosts']);
    expect(hosts.code).toBe(1);
    expect(hosts.stderr.trim()).toMatch(
      /^freezer-dr: the simulated cloud lives inside `freezer-dr serve`: nothing answers/,
    );
  });
});
