// Execution names stay unique, readable and at most 80 characters for any host and
// incident, and the intake and the reconciler still find a host's executions by name.
import { afterEach, describe, expect, it } from 'vitest';
import {
  executionName,
  isExecutionOfHost,
  namesIncident,
  resumedExecutionName,
} from '../../core/executions.js';
import { type IntakeRig, startIntakeRig } from '../support/intake.js';
import { alertmanagerPayload } from '../support/intake-samples.js';

// 72 characters, as the review's host: a name cut at 80 kept only 6 of the incident's.
const LONG = 'rack-42-chassis-7-blade-3-compute-node.availability-zone-1.example.org.x';
const TWIN = 'rack-42-chassis-7-blade-3-compute-node.availability-zone-2.example.org.x';
const FIRST = '2026-11-21T10:05:00.000000';
const SECOND = '2026-11-21T10:41:17.000000';

describe('execution names', () => {
  it('keeps two incidents of a 72-character host apart, within 80 characters', () => {
    expect(LONG).toHaveLength(72);
    const names = [
      executionName(LONG, FIRST),
      executionName(LONG, SECOND),
      resumedExecutionName(LONG, FIRST),
      resumedExecutionName(LONG, SECOND),
    ];
    expect(new Set(names).size).toBe(4);
    for (const name of names) {
      expect(name.length).toBeLessThanOrEqual(80);
      expect(name).toMatch(/^rack-42-chassis-7-blade-3-compu-[0-9a-f]{8}--/); // the host's beginning, then its hash
    }
    // The incident stays whole and readable after the cut host.
    expect(executionName(LONG, FIRST)).toMatch(/--2026-11-21T10-05-00\.000000$/);
  });

  it('keeps the names of short hosts and incidents as they were', () => {
    expect(executionName('compute-1', FIRST)).toBe('compute-1--2026-11-21T10-05-00.000000');
    expect(resumedExecutionName('compute-1', 'kill-case')).toBe('compute-1--kill-case--resumed');
  });

  it('cuts a long incident with a hash too, so two long incidents of a host stay apart', () => {
    const a = executionName('compute-1', `manual-${'x'.repeat(40)}-a`);
    const b = executionName('compute-1', `manual-${'x'.repeat(40)}-b`);
    expect(a).not.toBe(b);
    expect(resumedExecutionName('compute-1', `manual-${'x'.repeat(40)}-a`).length).toBeLessThanOrEqual(80);
  });

  it('finds a host by its executions, cut names included, and never confuses two long hosts', () => {
    for (const name of [executionName(LONG, FIRST), resumedExecutionName(LONG, SECOND)]) {
      expect(isExecutionOfHost(name, LONG)).toBe(true);
      expect(isExecutionOfHost(name, TWIN)).toBe(false);
    }
    expect(isExecutionOfHost(executionName('compute-1', FIRST), 'compute-1')).toBe(true);
    expect(isExecutionOfHost(executionName('compute-10', FIRST), 'compute-1')).toBe(false);
  });

  it('recognises an incident by its names, whatever the host', () => {
    expect(namesIncident(executionName(LONG, FIRST), FIRST)).toBe(true);
    expect(namesIncident(resumedExecutionName(LONG, FIRST), FIRST)).toBe(true);
    expect(namesIncident(executionName(LONG, SECOND), FIRST)).toBe(false);
    expect(namesIncident(resumedExecutionName(LONG, SECOND), FIRST)).toBe(false);
  });
});

describe('the intake with a 72-character host', () => {
  let rig: IntakeRig;
  afterEach(async () => rig?.close());

  it('starts a new recovery for a new incident instead of calling it already handled', async () => {
    rig = await startIntakeRig({ hosts: 8 });
    rig.sim.state.addHost(LONG);
    rig.sim.state.killCompute(LONG, { reportedAgoMs: 120_000 });
    const alert = alertmanagerPayload([{ host: LONG }]);
    type Outcome = { decision: string; reason: string; executionName: string | null };
    const first = (await rig.post(alert)).body.outcomes as Outcome[];
    expect(first[0]).toMatchObject({ decision: 'started' });

    // While it runs, another incident of the host is refused: one recovery per host.
    rig.sim.state.killCompute(LONG, { reportedAgoMs: 60_000 }); // Nova's last report moved: a new incident
    const during = (await rig.post(alert)).body.outcomes as Outcome[];
    expect(during[0]).toMatchObject({ decision: 'skipped', reason: 'running-recovery' });

    // Once it has ended, the new incident is a new execution, not the old name again.
    rig.sfn.finish(first[0]?.executionName as string);
    const second = (await rig.post(alert)).body.outcomes as Outcome[];
    expect(second[0]).toMatchObject({ decision: 'started' });
    expect(second[0]?.executionName).not.toBe(first[0]?.executionName);
    expect(rig.sfn.started.map((e) => e.name.length).every((n) => n <= 80)).toBe(true);
  });
});
