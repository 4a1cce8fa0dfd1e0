// Faults in the power controller, with the simulated BMCs: a fence that cannot be verified
// stops the recovery before anything is evacuated; one that can, however late within the
// verify window, lets it go on.
import { afterEach, describe, expect } from 'vitest';
import type { BmcFault } from '../../drivers/cloud/simulated/state.js';
import { type CaseContext, faultGroup } from './support/campaign.js';
import { expectRecovered, expectUntouched, failHost, kinds } from './support/checks.js';
import { completed, describeRun, type Scene, startScene } from './support/scene.js';

const faultCase = faultGroup('bmc');
let scene: Scene | null = null;
afterEach(async () => {
  await scene?.close();
  scene = null;
});

async function open(options: Parameters<typeof startScene>[0] = {}): Promise<Scene> {
  scene = await startScene(options);
  return scene;
}

/** A BMC fault on compute-1 that must end in FencingFailed with nothing evacuated. */
async function refusedFence(c: CaseContext, fault: BmcFault) {
  const s = await open({ recovery: { fence: { verifyTimeoutSeconds: 1, pollIntervalMs: 50 } } });
  c.witness(s.evidence);
  failHost(s, 'compute-1');
  s.sim.state.host('compute-1').bmcFault = fault;
  const run = await s.recover('compute-1');
  expect(run.outcome.status).toBe('FAILED');
  expectUntouched(s, 'compute-1');
  expect(kinds(s)).toEqual(['fencing-failed']);
  return { actual: `${describeRun(run)}; nothing evacuated; admins told (fencing-failed)`, completed: 0 };
}

describe('BMC faults (simulated BMCs)', () => {
  faultCase(
    {
      name: 'bmc-unreachable',
      fault: 'BMC answers nothing (status and off fail: no RMCP+ session)',
      expected: 'FencingFailed, nothing evacuated, admins told',
      completions: 0,
    },
    (c) => refusedFence(c, 'unreachable'),
  );

  faultCase(
    {
      name: 'bmc-wrong-credentials',
      fault: 'BMC rejects the credentials',
      expected: 'FencingFailed, nothing evacuated, admins told',
      completions: 0,
    },
    (c) => refusedFence(c, 'auth'),
  );

  faultCase(
    {
      name: 'bmc-acks-off-stays-on',
      fault: 'BMC acknowledges power off, the host keeps running',
      expected: 'Fence.NotVerified, nothing evacuated, admins told',
      completions: 0,
    },
    (c) => refusedFence(c, 'ignore-off'),
  );

  faultCase(
    {
      name: 'bmc-off-fails',
      fault: 'BMC answers the off with an error, the host keeps running',
      expected: 'Fence.NotVerified, nothing evacuated, admins told',
      completions: 0,
    },
    (c) => refusedFence(c, 'fail-off'),
  );

  faultCase(
    {
      name: 'bmc-slow-off-in-window',
      fault: 'power goes off 600 ms after the off request (verify window 2 s)',
      expected: 'verified late, every instance recovered once',
      completions: 1,
    },
    async (c) => {
      const s = await open();
      c.witness(s.evidence);
      const servers = failHost(s, 'compute-1');
      s.sim.state.host('compute-1').bmcFault = { slowOffMs: 600 };
      const run = await s.recover('compute-1');
      expectRecovered(s, servers, 'compute-1');
      const polls = (run.outcome.output as { power?: { polls?: number } }).power?.polls ?? 0;
      expect(polls).toBeGreaterThan(1);
      return {
        actual: `${describeRun(run)}; off verified after ${polls} polls`,
        completed: Number(completed(run)),
      };
    },
  );

  faultCase(
    {
      name: 'bmc-slow-off-past-window',
      fault: 'power goes off 2.5 s after the off request (verify window 1 s)',
      expected: 'Fence.NotVerified, nothing evacuated although the host went off later',
      completions: 0,
    },
    async (c) => {
      const s = await open({ recovery: { fence: { verifyTimeoutSeconds: 1, pollIntervalMs: 50 } } });
      c.witness(s.evidence);
      failHost(s, 'compute-1');
      s.sim.state.host('compute-1').bmcFault = { slowOffMs: 2500 };
      const run = await s.recover('compute-1');
      expect(run.outcome.error).toBe('Fence.NotVerified');
      await new Promise((resolve) => setTimeout(resolve, 2000));
      expect(s.sim.state.host('compute-1').power).toBe('off');
      expectUntouched(s, 'compute-1');
      return {
        actual: `${describeRun(run)}; host went off after the window; nothing evacuated`,
        completed: 0,
      };
    },
  );

  faultCase(
    {
      name: 'bmc-dies-mid-off',
      fault: 'BMC accepts the off, then stops answering (the host does go off)',
      expected: 'power never reads off: Fence.NotVerified, nothing evacuated',
      completions: 0,
    },
    async (c) => {
      const s = await open({ recovery: { fence: { verifyTimeoutSeconds: 1, pollIntervalMs: 50 } } });
      c.witness(s.evidence);
      failHost(s, 'compute-1');
      s.after('powerOff', () => {
        s.sim.state.host('compute-1').bmcFault = 'unreachable';
      });
      const run = await s.recover('compute-1');
      expect(run.outcome.error).toBe('Fence.NotVerified');
      expect(s.sim.state.host('compute-1').power).toBe('off');
      expectUntouched(s, 'compute-1');
      return { actual: `${describeRun(run)}; host off but unverifiable; nothing evacuated`, completed: 0 };
    },
  );

  faultCase(
    {
      name: 'bmc-flaky-reads',
      fault: 'after the off, the first 3 status reads fail, then the BMC answers',
      expected: 'verified off on a later poll, every instance recovered once',
      completions: 1,
    },
    async (c) => {
      const s = await open();
      c.witness(s.evidence);
      const servers = failHost(s, 'compute-1');
      const host = s.sim.state.host('compute-1');
      let failing = 0;
      s.after('powerOff', () => {
        host.bmcFault = 'unreachable';
        failing = 3;
      });
      // Each failed read counts down; the BMC answers again after the third.
      const read = s.rt.fencer.powerStatus.bind(s.rt.fencer);
      s.rt.fencer.powerStatus = async (name: string) => {
        try {
          return await read(name);
        } finally {
          if (failing > 0 && --failing === 0) host.bmcFault = 'none';
        }
      };
      const run = await s.recover('compute-1');
      expectRecovered(s, servers, 'compute-1');
      return { actual: describeRun(run), completed: Number(completed(run)) };
    },
  );
});
