// statemachine/host-recovery.asl.json and host-drain.asl.json themselves: lint, bindings,
// the order of their safety-relevant states, and the recovery's history budget.
import aslValidator from 'asl-validator';
import { afterEach, describe, expect, it } from 'vitest';
import { nextWait } from '../../core/drain/verify-migration.js';
import { DRAIN_DEFINITION_PATH, loadDefinition, placeholders } from '../../engine/definition.js';
import { toHistoryEvents } from '../../engine/history.js';
import { taskFunctions } from '../../functions/catalog.js';
import { type Harness, recoveryInput, startHarness } from '../support/harness.js';

type State = Record<string, unknown> & { Type: string };
const definition = loadDefinition();

function allStates(states: Record<string, State>, out: [string, State][] = []): [string, State][] {
  for (const [name, state] of Object.entries(states)) {
    out.push([name, state]);
    const processor = state.ItemProcessor as { States: Record<string, State> } | undefined;
    if (processor) allStates(processor.States, out);
  }
  return out;
}
const states = allStates(definition.States as Record<string, State>);
const drain = loadDefinition(DRAIN_DEFINITION_PATH);
const drainStates = allStates(drain.States as Record<string, State>);

let h: Harness;
afterEach(async () => h?.close());

describe('statemachine/host-recovery.asl.json', () => {
  it('passes asl-validator', () => {
    // asl-validator annotates the object it checks, so it gets a copy.
    const { isValid, errors } = aslValidator(structuredClone(definition), {
      checkPaths: true,
      checkArn: true,
    });
    expect(errors).toEqual([]);
    expect(isValid).toBe(true);
  });

  it('binds every Task to one of our functions through a DefinitionSubstitution', () => {
    const tasks = states.filter(([, s]) => s.Type === 'Task');
    expect(tasks.length).toBeGreaterThanOrEqual(9);
    for (const [name, task] of tasks) {
      expect(task.Resource, name).toBe('arn:aws:states:::lambda:invoke');
      const fn = (task.Parameters as { FunctionName: string }).FunctionName;
      expect(fn, name).toMatch(/^\$\{[A-Za-z]+\}$/);
      expect(Object.keys(taskFunctions)).toContain(fn.slice(2, -1));
      expect(task.Catch, `${name} must catch its errors`).toBeDefined();
    }
    // Between them, the two workflows use every function of the catalog.
    expect([...new Set([...placeholders(definition), ...placeholders(drain)])].sort()).toEqual(
      Object.keys(taskFunctions).sort(),
    );
  });

  it('uses JSONPath only (the local engine silently ignores JSONata and Assign)', () => {
    const text = JSON.stringify(definition);
    expect(text).not.toContain('QueryLanguage');
    expect(text).not.toContain('"Assign"');
    expect(text).not.toContain('"Arguments"');
  });

  it('evacuates only after the power-off is verified and the service is forced down', () => {
    const top = definition.States as Record<string, State>;
    expect(definition.StartAt).toBe('ConfirmHostFailure');
    // Only a confirmed read of Nova leads to FenceHost; every other verdict ends or waits.
    expect(top.ConfirmHostFailure?.Next).toBe('NovaVerdict');
    const verdicts = top.NovaVerdict?.Choices as { Next: string; StringEquals?: string }[];
    expect(verdicts.filter((c) => c.Next === 'FenceHost').map((c) => c.StringEquals)).toEqual(['confirmed']);
    expect(top.NovaVerdict?.Default).not.toBe('FenceHost');
    expect(top.WaitForNova).toMatchObject({ Type: 'Wait', Next: 'ConfirmHostFailure' });
    expect(top.FenceHost?.Next).toBe('VerifyPowerOff');
    // Only a power reading of off, or the explicit record-only branch, leads to MarkHostDown.
    expect(top.VerifyPowerOff?.Next).toBe('PowerVerdict');
    const power = top.PowerVerdict as unknown as {
      Choices: { Variable: string; BooleanEquals: boolean; Next: string }[];
      Default: string;
    };
    expect(power.Choices.map((c) => [c.Variable, c.BooleanEquals, c.Next])).toEqual([
      ['$.power.verified', true, 'MarkHostDown'],
      ['$.power.recordOnly', true, 'RecordOnlyPowerNotControlled'],
    ]);
    expect(top.RecordOnlyPowerNotControlled).toMatchObject({ Type: 'Pass', Next: 'MarkHostDown' });
    expect(power.Default).toBe('PowerNotVerified');
    expect(top.PowerNotVerified).toMatchObject({
      Type: 'Pass',
      ResultPath: '$.error',
      Next: 'NotifyFencingFailed',
    });
    const intoMarkDown = Object.entries(top).filter(([, s]) => JSON.stringify(s).includes('"MarkHostDown"'));
    expect(intoMarkDown.map(([name]) => name).sort()).toEqual([
      'PowerVerdict',
      'RecordOnlyPowerNotControlled',
    ]);
    expect(top.MarkHostDown?.Next).toBe('SelectInstances');
    expect(top.SelectInstances?.Next).toBe('PlanTargets');
    expect(top.PlanTargets?.Next).toBe('CountSelection');
    expect(top.CountSelection).toMatchObject({
      Type: 'Pass',
      ResultPath: '$.selection',
      Next: 'CapacityCheck',
    });
    expect(top.CapacityCheck?.Default).toBe('EvacuateInstances');
    expect(top.NotifyCapacityShortfall?.Next).toBe('EvacuateInstances');
    for (const name of ['FenceHost', 'VerifyPowerOff']) {
      const catches = top[name]?.Catch as { Next: string }[];
      expect(catches.map((c) => c.Next)).toEqual(['NotifyFencingFailed']);
    }
    expect(top.NotifyFencingFailed?.Next).toBe('FencingFailed');
    // The evacuation Map failing as a whole (not one instance) still tells the admins and owners.
    expect(top.EvacuateInstances?.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'NotifyRecoveryFailed' },
    ]);
    expect(top.FencingFailed?.Type).toBe('Fail');
  });

  it('costs at most 12 history events per typical instance, so 1000 instances fit in 25,000', async () => {
    // Marginal cost: two runs that differ only in the number of instances.
    const historyOf = async (n: number) => {
      h = await startHarness();
      for (let i = 0; i < n; i += 1) h.sim.state.addServer({ host: 'compute-1' });
      h.sim.state.killCompute('compute-1', { reportedAgoMs: 120_000 });
      const input = recoveryInput('compute-1');
      const run = h.engine.start(input);
      expect((await run.done).status).toBe('SUCCEEDED');
      await h.close();
      return toHistoryEvents(run.events, input, new Date()).length;
    };
    const small = await historyOf(5);
    const large = await historyOf(25);
    const perInstance = (large - small) / 20;
    const fixed = small - 5 * perInstance;
    expect(perInstance).toBeLessThanOrEqual(12);
    expect(fixed + 1000 * perInstance).toBeLessThan(25_000);
  });
});

describe('statemachine/host-drain.asl.json', () => {
  const top = drain.States as Record<string, State>;

  it('passes asl-validator, uses JSONPath only, and binds every Task to one of our functions', () => {
    const { isValid, errors } = aslValidator(structuredClone(drain), { checkPaths: true, checkArn: true });
    expect(errors).toEqual([]);
    expect(isValid).toBe(true);
    const text = JSON.stringify(drain);
    for (const jsonata of ['QueryLanguage', '"Assign"', '"Arguments"']) expect(text).not.toContain(jsonata);
    for (const [name, task] of drainStates.filter(([, s]) => s.Type === 'Task')) {
      expect(task.Resource, name).toBe('arn:aws:states:::lambda:invoke');
      const fn = (task.Parameters as { FunctionName: string }).FunctionName;
      expect(Object.keys(taskFunctions)).toContain(fn.slice(2, -1));
      expect(task.Catch, `${name} must catch its errors`).toBeDefined();
    }
  });

  it('never fences, forces down or evacuates: those functions are not in it', () => {
    const used = placeholders(drain);
    for (const fn of [
      'FenceHostFunctionArn',
      'VerifyPowerOffFunctionArn',
      'MarkHostDownFunctionArn',
      'EvacuateInstanceFunctionArn',
    ])
      expect(used.has(fn), fn).toBe(false);
  });

  it('disables and migrates only a host read up, and only once the plan found room for everything', () => {
    expect(drain.StartAt).toBe('CheckDrainHost');
    const verdicts = top.HostVerdict?.Choices as { Next: string; StringEquals?: string }[];
    expect(verdicts.map((c) => [c.StringEquals, c.Next])).toEqual([
      ['up', 'SelectInstances'],
      ['down', 'HandOverAtStart'],
    ]);
    expect(top.HostVerdict?.Default).toBe('DrainSkipped');
    expect(top.SelectInstances?.Next).toBe('PlanTargets');
    expect(top.PlanTargets?.Next).toBe('CountSelection');
    expect(top.CountSelection?.Next).toBe('CapacityCheck');
    expect(top.CapacityCheck?.Choices).toEqual([
      { Variable: '$.plan.unplacedCount', NumericGreaterThan: 0, Next: 'NotifyDrainRefused' },
    ]);
    expect(top.CapacityCheck?.Default).toBe('DisableHostForDrain');
    const intoDisable = Object.entries(top).filter(([, s]) =>
      JSON.stringify(s).includes('"DisableHostForDrain"'),
    );
    expect(intoDisable.map(([name]) => name)).toEqual(['CapacityCheck']);
    expect(top.DisableHostForDrain?.Next).toBe('MigrateInstances');
    expect(top.NotifyDrainRefused?.Next).toBe('DrainRefused');
  });

  it('waits for each migration in a durable Wait loop, with bounded concurrency from the plan', () => {
    const inner = Object.fromEntries(drainStates);
    expect(inner.WaitForMigration).toMatchObject({
      Type: 'Wait',
      SecondsPath: '$.migration.waitSeconds',
      Next: 'VerifyMigration',
    });
    expect(inner.MigrationSettled).toMatchObject({ Default: 'WaitBeforeNextCheck' });
    expect(inner.WaitBeforeNextCheck).toMatchObject({
      Type: 'Wait',
      SecondsPath: '$.check.waitSeconds',
      Next: 'VerifyMigration',
    });
    expect(inner.MigrateWave?.MaxConcurrencyPath).toBe('$.maxConcurrency');
    expect(top.MigrateInstances?.MaxConcurrency).toBe(1);
    // Waits grow with the migration's age: 1 s while it is young, at most pollSeconds × maxConcurrency.
    expect([0, 3, 8, 13, 100].map((age) => nextWait(age, 5))).toEqual([1, 1, 2, 3, 5]);
    expect([8, 40, 100].map((age) => nextWait(age, 5, 3))).toEqual([2, 10, 15]);
    // No Task idles: nothing in the drain retries a "not settled" error to wait.
    expect(JSON.stringify(drain)).not.toContain('Instance.NotSettled');
  });

  it('hands a host that died to the recovery, at the start or after the Map', () => {
    expect(top.HostStillUp?.Choices).toEqual([
      { Variable: '$.summary.hostDown', BooleanEquals: true, Next: 'HandOverToRecovery' },
    ]);
    for (const name of ['HandOverAtStart', 'HandOverToRecovery']) {
      expect(JSON.stringify(top[name]?.Parameters)).toContain('HandOverToRecoveryFunctionArn');
    }
    expect(top.HandOverAtStart?.Next).toBe('DrainHandedOver');
    expect(top.DrainHandedOver).toMatchObject({ Type: 'Fail', Error: 'Drain.HandedOver' });
  });
});
