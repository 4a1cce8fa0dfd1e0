// PowerVerdict: the definition itself sends a run to MarkHostDown (and so to the
// evacuations) only when VerifyPowerOff read the power off; record-only is its own named
// branch, and anything else is a fencing failure, whatever the function returned.
import { afterEach, describe, expect, it } from 'vitest';
import { LocalEngine } from '../../engine/local-engine.js';
import { type Harness, recoveryInput, startHarness } from '../support/harness.js';

let h: Harness;
afterEach(async () => h?.close());

const entered = (events: { type: string; state?: { name: string } }[]) =>
  events.filter((e) => e.type === 'StateEntered').map((e) => e.state?.name);

describe('PowerVerdict', () => {
  it('fails the fencing when VerifyPowerOff returns without reading off, and forces nothing down', async () => {
    h = await startHarness();
    const { state } = h.sim;
    const server = state.addServer({ host: 'compute-1' });
    state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    // A function that answers instead of throwing (a bug, an old bundle): the definition decides.
    const engine = new LocalEngine({
      runtime: async () => h.rt,
      retryIntervalMs: 10,
      waitMs: 20,
      handlers: {
        VerifyPowerOffFunctionArn: async () => ({
          verified: false,
          recordOnly: false,
          polls: 1,
          at: new Date().toISOString(),
        }),
      },
    });

    const run = engine.start(recoveryInput('compute-1'), 'power-unverified');
    const outcome = await run.done;

    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('Fence.NotVerified');
    expect(entered(run.events as never)).not.toContain('MarkHostDown');
    expect(entered(run.events as never)).toContain('PowerNotVerified');
    expect(state.host('compute-1').forcedDown).toBe(false);
    expect(state.counters.evacuateAccepted.size).toBe(0);
    expect(server.host).toBe('compute-1');
    expect(h.notifier.reports.map((r) => r.kind)).toEqual(['fencing-failed']);
  });

  it('takes record-only (the noop fencer) through its own named state, and says so in the report', async () => {
    h = await startHarness({ fencer: { driver: 'noop', iUnderstandHostsAreNotPoweredOff: true } });
    const { state } = h.sim;
    const server = state.addServer({ host: 'compute-1' });
    state.killCompute('compute-1', { reportedAgoMs: 120_000 });

    const run = h.engine.start(recoveryInput('compute-1'), 'record-only');
    const outcome = await run.done;

    expect(outcome.status).toBe('SUCCEEDED');
    const order = entered(run.events as never);
    expect(order.slice(order.indexOf('VerifyPowerOff'), order.indexOf('MarkHostDown') + 1)).toEqual([
      'VerifyPowerOff',
      'PowerVerdict',
      'RecordOnlyPowerNotControlled',
      'MarkHostDown',
    ]);
    expect(state.host('compute-1').power).toBe('on');
    expect(server.host).not.toBe('compute-1');
    expect(h.notifier.reports[0]?.fence).toMatchObject({ method: 'noop', verified: false });
    expect(h.notifier.reports[0]?.fence?.detail).toMatch(/^RECORD-ONLY/);
  });
});
