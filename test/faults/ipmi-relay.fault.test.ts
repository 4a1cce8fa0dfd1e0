// Faults in real fencing: the ipmi-relay fencer, the bastion relay (infra/relay) and real
// ipmi_sim BMCs whose chassis hook kills or starts a fake host process, so "off" means a
// process really died. The simulated cloud plays Nova; the BMC is the power truth.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect } from 'vitest';
import { type Bmc, type BmcLab, startBmcLab } from '../support/bmc-lab.js';
import { faultGroup } from './support/campaign.js';
import { expectRecovered, expectUntouched, failHost, kinds } from './support/checks.js';
import { type FaultProxy, startFaultProxy } from './support/fault-proxy.js';
import { type FaultRelay, startFaultRelay } from './support/relay.js';
import { completed, describeRun, type Scene, type SceneOptions, startScene } from './support/scene.js';

const faultCase = faultGroup('ipmi-relay');
let lab: BmcLab;
let relay: FaultRelay;
let scene: Scene | null = null;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  lab = await startBmcLab({ count: 1 });
  relay = await startFaultRelay({ 'compute-1': bmc() });
}, 60_000);
afterAll(async () => {
  await relay?.close();
  await lab?.stop();
});
afterEach(async () => {
  await scene?.close();
  scene = null;
  for (const close of closers.splice(0)) await close();
});

const bmc = (): Bmc => lab.bmc(0);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const auditFrom = (from: number) => relay.audit.slice(from).map((line) => JSON.parse(line));
const truth = (host: string) => (host === 'compute-1' && bmc().hostRunning() ? 'on' : 'off');

/** compute-1's BMC answering and its host running again, with this fault. */
async function reset(fault: Parameters<Bmc['setFault']>[0] = { kind: 'none' }): Promise<void> {
  bmc().setFault({ kind: 'none' });
  await bmc().start();
  await bmc().bootHostProcess();
  bmc().setFault(fault);
}

async function open(fencer: Record<string, unknown>, options: SceneOptions = {}): Promise<Scene> {
  scene = await startScene({
    fencer,
    powerTruth: truth,
    recovery: { fence: { verifyTimeoutSeconds: 3, pollIntervalMs: 200 } },
    ...options,
  });
  return scene;
}

async function proxy(): Promise<FaultProxy> {
  const p = await startFaultProxy(relay.url);
  closers.push(() => p.close());
  return p;
}

/** The fence must fail: nothing evacuated, admins told; says whether the host still runs. */
async function expectFenceRefused(s: Scene): Promise<string> {
  const run = await s.recover('compute-1');
  expect(run.outcome.status).toBe('FAILED');
  expect(run.outcome.error).toMatch(/^Fence\./);
  expectUntouched(s, 'compute-1');
  expect(kinds(s)).toEqual(['fencing-failed']);
  return `${describeRun(run)}; nothing evacuated; host ${bmc().hostRunning() ? 'still running' : 'off'}`;
}

describe('fencing through the relay to ipmi_sim', () => {
  faultCase(
    {
      name: 'ipmi-fence-baseline',
      fault: 'none: relay and BMC healthy',
      expected: 'host process killed by the BMC, every instance recovered once',
      completions: 1,
    },
    async (c) => {
      await reset();
      const s = await open(relay.fencer());
      c.witness(s.evidence);
      const servers = failHost(s, 'compute-1');
      const run = await s.recover('compute-1');
      expect(bmc().hostRunning()).toBe(false);
      expectRecovered(s, servers, 'compute-1');
      return { actual: `${describeRun(run)}; host process dead`, completed: Number(completed(run)) };
    },
  );

  faultCase(
    {
      name: 'ipmi-bmc-unreachable',
      fault: 'ipmi_sim killed: nothing listens on the BMC port',
      expected: 'relay reports unreachable; fencing failed, nothing evacuated',
      completions: 0,
      timeoutMs: 90_000,
    },
    async (c) => {
      await reset();
      await bmc().kill();
      const s = await open(relay.fencer(), {
        recovery: { fence: { verifyTimeoutSeconds: 2, pollIntervalMs: 200 } },
      });
      c.witness(s.evidence);
      failHost(s, 'compute-1');
      const actual = await expectFenceRefused(s);
      expect(s.memory.reports[0]?.cause).toMatch(/unreachable/);
      return { actual, completed: 0 };
    },
  );

  faultCase(
    {
      name: 'ipmi-wrong-password',
      fault: 'the relay holds a wrong BMC password',
      expected: 'relay reports auth-failed; fencing failed, nothing evacuated',
      completions: 0,
    },
    async (c) => {
      await reset();
      const wrong = join(lab.dir, 'wrong.pass');
      writeFileSync(wrong, 'not-the-password\n', { mode: 0o600 });
      const badRelay = await startFaultRelay(
        { 'compute-1': bmc() },
        { passwordFiles: { 'compute-1': wrong } },
      );
      closers.push(() => badRelay.close());
      const s = await open(badRelay.fencer());
      c.witness(s.evidence);
      failHost(s, 'compute-1');
      const actual = await expectFenceRefused(s);
      expect(s.memory.reports[0]?.cause).toMatch(/auth-failed/);
      expect(bmc().hostRunning()).toBe(true);
      return { actual, completed: 0 };
    },
  );

  faultCase(
    {
      name: 'ipmi-acks-off-stays-on',
      fault: 'BMC answers the off with success, the host keeps running (ignore_off)',
      expected: 'power keeps reading on: Fence.NotVerified, nothing evacuated',
      completions: 0,
    },
    async (c) => {
      await reset({ kind: 'ignore_off' });
      const s = await open(relay.fencer());
      c.witness(s.evidence);
      failHost(s, 'compute-1');
      const actual = await expectFenceRefused(s);
      expect(bmc().hostRunning()).toBe(true);
      return { actual, completed: 0 };
    },
  );

  faultCase(
    {
      name: 'ipmi-off-fails',
      fault: 'BMC refuses the off (completion code 0xff)',
      expected: 'Fence.NotVerified, nothing evacuated, host still running',
      completions: 0,
    },
    async (c) => {
      await reset({ kind: 'fail_off' });
      const s = await open(relay.fencer());
      c.witness(s.evidence);
      failHost(s, 'compute-1');
      const actual = await expectFenceRefused(s);
      expect(bmc().hostRunning()).toBe(true);
      return { actual, completed: 0 };
    },
  );

  faultCase(
    {
      name: 'ipmi-slow-off',
      fault: 'BMC acknowledges the off, the host dies 1 s later (verify window 3 s)',
      expected: 'verified once the host is gone, every instance recovered once',
      completions: 1,
    },
    async (c) => {
      await reset({ kind: 'slow_off', seconds: 1 });
      const s = await open(relay.fencer());
      c.witness(s.evidence);
      const servers = failHost(s, 'compute-1');
      const run = await s.recover('compute-1');
      expectRecovered(s, servers, 'compute-1');
      expect(bmc().hostRunning()).toBe(false);
      return { actual: describeRun(run), completed: Number(completed(run)) };
    },
  );

  faultCase(
    {
      name: 'ipmi-bmc-killed-mid-off',
      fault: 'BMC stalls 3 s per request and is killed while the off is pending',
      expected: 'no reading says off: Fence.NotVerified, nothing evacuated',
      completions: 0,
      timeoutMs: 90_000,
    },
    async (c) => {
      await reset({ kind: 'hang', seconds: 3 });
      const s = await open(relay.fencer(), {
        recovery: { fence: { verifyTimeoutSeconds: 2, pollIntervalMs: 200 } },
      });
      c.witness(s.evidence);
      failHost(s, 'compute-1');
      // Kill ipmi_sim as soon as its hook has the off request.
      const killer = (async () => {
        for (let i = 0; i < 200 && !bmc().hookLog().includes('set power 0'); i += 1) {
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        await bmc().kill();
      })();
      const actual = await expectFenceRefused(s);
      await killer;
      return { actual, completed: 0 };
    },
  );

  faultCase(
    {
      name: 'relay-down',
      fault: 'nothing listens at the relay address',
      expected: 'fencing failed (relay unreachable), nothing evacuated',
      completions: 0,
    },
    async (c) => {
      await reset();
      const gone = await proxy();
      const url = gone.url;
      await gone.close();
      const s = await open(relay.fencer(url, 2000));
      c.witness(s.evidence);
      failHost(s, 'compute-1');
      const actual = await expectFenceRefused(s);
      expect(s.memory.reports[0]?.cause).toMatch(/unreachable/);
      expect(bmc().hostRunning()).toBe(true);
      return { actual, completed: 0 };
    },
  );

  faultCase(
    {
      name: 'relay-slow',
      fault: 'every relay answer delayed 700 ms (fencer timeout 10 s)',
      expected: 'slower, still verified, every instance recovered once',
      completions: 1,
    },
    async (c) => {
      await reset();
      const slow = await proxy();
      slow.add({ path: /./, times: Number.POSITIVE_INFINITY, action: { kind: 'delay', ms: 700 } });
      const s = await open(relay.fencer(slow.url));
      c.witness(s.evidence);
      const servers = failHost(s, 'compute-1');
      const run = await s.recover('compute-1');
      expectRecovered(s, servers, 'compute-1');
      return { actual: describeRun(run), completed: Number(completed(run)) };
    },
  );

  faultCase(
    {
      name: 'relay-slower-than-timeout',
      fault: 'every relay answer delayed 2.5 s, fencer gives up after 1 s (the off still lands)',
      expected: 'no answer counts as off: Fence.NotVerified, nothing evacuated',
      completions: 0,
    },
    async (c) => {
      await reset();
      const slow = await proxy();
      slow.add({ path: /./, times: Number.POSITIVE_INFINITY, action: { kind: 'delay', ms: 2500 } });
      const s = await open(relay.fencer(slow.url, 1000), {
        recovery: { fence: { verifyTimeoutSeconds: 2, pollIntervalMs: 200 } },
      });
      c.witness(s.evidence);
      failHost(s, 'compute-1');
      const actual = await expectFenceRefused(s);
      return { actual, completed: 0 };
    },
  );

  faultCase(
    {
      name: 'relay-garbage',
      fault: 'the relay address answers 200 with an HTML page',
      expected: 'unexpected answers are failures: fencing failed, nothing evacuated',
      completions: 0,
    },
    async (c) => {
      await reset();
      const junk = await proxy();
      junk.add({
        path: /./,
        times: Number.POSITIVE_INFINITY,
        action: { kind: 'garbage', body: '<html><body>Service Unavailable</body></html>' },
      });
      const s = await open(relay.fencer(junk.url));
      c.witness(s.evidence);
      failHost(s, 'compute-1');
      const actual = await expectFenceRefused(s);
      expect(bmc().hostRunning()).toBe(true);
      return { actual, completed: 0 };
    },
  );

  faultCase(
    {
      name: 'relay-malformed-off',
      fault: 'something answers status reads with a malformed {"state":"off"} and swallows the off',
      expected: 'a malformed answer is no reading: Fence.NotVerified, nothing evacuated',
      completions: 0,
    },
    async (c) => {
      await reset();
      const liar = await proxy();
      liar.add({
        path: /\/power/,
        times: Number.POSITIVE_INFINITY,
        action: { kind: 'answer', status: 200, body: { state: 'off' } },
      });
      const s = await open(relay.fencer(liar.url));
      c.witness(s.evidence);
      failHost(s, 'compute-1');
      const actual = await expectFenceRefused(s);
      expect(bmc().hostRunning()).toBe(true);
      return { actual, completed: 0 };
    },
  );

  faultCase(
    {
      name: 'relay-forged-off',
      fault:
        'something that is not the relay answers every power call with a well-formed "off" (its answer MAC forged)',
      expected:
        'no answer the relay did not sign for the request counts: Fence.NotVerified, nothing evacuated',
      completions: 0,
    },
    async (c) => {
      await reset();
      const forger = await proxy();
      forger.add({
        path: /\/power/,
        times: Number.POSITIVE_INFINITY,
        action: {
          kind: 'answer',
          status: 200,
          body: {
            host: 'compute-1',
            kind: 'ipmi',
            controller: `ipmi lanplus 127.0.0.1:${bmc().port}`,
            action: 'status',
            state: 'off',
            error: null,
            ms: 40,
          },
          headers: { 'x-relay-answer-signature': randomBytes(32).toString('hex') },
        },
      });
      const s = await open(relay.fencer(forger.url));
      c.witness(s.evidence);
      failHost(s, 'compute-1');
      const actual = await expectFenceRefused(s);
      expect(s.memory.reports[0]?.cause).toMatch(/not signed by the relay for this request/);
      expect(forger.hits.length).toBeGreaterThan(1);
      expect(bmc().hostRunning()).toBe(true);
      return { actual, completed: 0 };
    },
  );

  faultCase(
    {
      name: 'relay-off-after-caller-left',
      fault:
        "compute-1's BMC is stuck in the fence's status read (held at the relay); the fencer gives up on each call after 1 s, the off included",
      expected:
        'fencing failed, nothing evacuated; the relay drops the off its caller left, so once the BMC answers again the host is still running',
      completions: 0,
    },
    async (c) => {
      await reset();
      const release = relay.hold();
      closers.push(async () => release());
      const s = await open(relay.fencer(relay.url, 1000), {
        recovery: { fence: { verifyTimeoutSeconds: 2, pollIntervalMs: 200 } },
      });
      c.witness(s.evidence);
      failHost(s, 'compute-1');
      const commands = relay.commands.length;
      const audit = relay.audit.length;
      const actual = await expectFenceRefused(s);
      // The BMC answers again. A read queued now runs after anything still waiting before it.
      release();
      expect(await relay.flood('compute-1', 1)).toEqual([200]);
      expect(relay.commands.slice(commands)).not.toContain('off');
      expect(bmc().hostRunning()).toBe(true);
      const gone = auditFrom(audit).filter((line) => line.outcome === 'caller-gone');
      expect(gone.map((line) => line.action)).toContain('off');
      return {
        actual: `${actual}; ${gone.length} calls dropped when their caller left, the off among them`,
        completed: 0,
      };
    },
  );

  faultCase(
    {
      name: 'relay-queue-flood',
      fault:
        'right after the fence reads status, another key holder sends 100 signed status reads of compute-1 at once (the BMC busy with the first)',
      expected:
        'the relay turns the excess away (503 queue-full) and runs the off next: verified, every instance recovered once',
      completions: 1,
    },
    async (c) => {
      await reset();
      const s = await open(relay.fencer(relay.url, 3000), {
        recovery: { fence: { verifyTimeoutSeconds: 6, pollIntervalMs: 200 } },
      });
      c.witness(s.evidence);
      const servers = failHost(s, 'compute-1');
      const turnedAway = () => relay.outcomes('queue-full');
      const before = turnedAway();
      const commands = relay.commands.length;
      let flood: Promise<number[]> | null = null;
      s.after('powerStatus', async () => {
        if (flood) return;
        const release = relay.hold();
        closers.push(async () => release());
        flood = relay.flood('compute-1', 100);
        // One read runs (held), 8 wait, 91 are turned away at once.
        for (let i = 0; i < 500 && turnedAway() - before < 91; i += 1) await sleep(20);
        // The BMC answers again once the off has taken a read's place in the line.
        void (async () => {
          for (let i = 0; i < 500 && turnedAway() - before < 92; i += 1) await sleep(20);
          release();
        })();
      });
      const run = await s.recover('compute-1');
      expectRecovered(s, servers, 'compute-1');
      expect(bmc().hostRunning()).toBe(false);
      const statuses = await (flood ?? Promise.resolve([]));
      expect(statuses.filter((status) => status === 503)).toHaveLength(92);
      expect(statuses.filter((status) => status === 200)).toHaveLength(8);
      // The fence's read, the flood's first read (running when the off came), then the off.
      expect(relay.commands.slice(commands).indexOf('off')).toBe(2);
      return {
        actual: `${describeRun(run)}; 92 of 100 flooding reads answered 503 queue-full, the off ran next`,
        completed: Number(completed(run)),
      };
    },
  );

  faultCase(
    {
      name: 'relay-clock-skew-60s',
      fault: "the relay's clock is 60 s ahead (signature window 30 s)",
      expected: 'every signed request refused (401 expired): fencing failed, nothing evacuated',
      completions: 0,
    },
    async (c) => {
      await reset();
      const skewed = await startFaultRelay({ 'compute-1': bmc() }, { clockSkewMs: 60_000 });
      closers.push(() => skewed.close());
      const s = await open(skewed.fencer());
      c.witness(s.evidence);
      failHost(s, 'compute-1');
      const actual = await expectFenceRefused(s);
      expect(s.memory.reports[0]?.cause).toMatch(/401/);
      expect(skewed.audit.every((line) => line.includes('"expired"'))).toBe(true);
      return { actual, completed: 0 };
    },
  );

  faultCase(
    {
      name: 'relay-clock-skew-10s',
      fault: "the relay's clock is 10 s behind (inside the 30 s window)",
      expected: 'accepted: every instance recovered once',
      completions: 1,
    },
    async (c) => {
      await reset();
      const skewed = await startFaultRelay({ 'compute-1': bmc() }, { clockSkewMs: -10_000 });
      closers.push(() => skewed.close());
      const s = await open(skewed.fencer());
      c.witness(s.evidence);
      const servers = failHost(s, 'compute-1');
      const run = await s.recover('compute-1');
      expectRecovered(s, servers, 'compute-1');
      return { actual: describeRun(run), completed: Number(completed(run)) };
    },
  );
});
