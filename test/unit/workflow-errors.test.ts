// The error names are the contract between the steps and the ASL: Step Functions matches a
// thrown error's name in Retry/Catch. Every name the definition matches (other than the
// service's own States.* and Lambda.*) must be a constant of core/errors.ts, and every Task
// carries the same retry of Lambda's transient failures.
import { describe, expect, it } from 'vitest';
import * as errors from '../../core/errors.js';
import { loadDefinition } from '../../engine/definition.js';

type Retrier = { ErrorEquals: string[] } & Record<string, unknown>;
type State = {
  Type: string;
  Retry?: Retrier[];
  Catch?: Retrier[];
  ItemProcessor?: { States: Record<string, State> };
};

function allStates(states: Record<string, State>, out: [string, State][] = []): [string, State][] {
  for (const [name, state] of Object.entries(states)) {
    out.push([name, state]);
    if (state.ItemProcessor) allStates(state.ItemProcessor.States, out);
  }
  return out;
}
const states = allStates(loadDefinition().States as Record<string, State>);
const tasks = states.filter(([, state]) => state.Type === 'Task');
const workflowErrorNames = new Set<string>(
  Object.values(errors as Record<string, unknown>).filter((value) => typeof value === 'string') as string[],
);
const isLambdaRetry = (retrier: Retrier) => retrier.ErrorEquals.every((name) => name.startsWith('Lambda.'));

describe('workflow error names', () => {
  it('every name the ASL matches is a constant in core/errors.ts', () => {
    const matched = states.flatMap(([name, state]) =>
      [...(state.Retry ?? []), ...(state.Catch ?? [])].flatMap((r) =>
        r.ErrorEquals.map((error) => ({ state: name, error })),
      ),
    );
    const ours = matched.filter(({ error }) => !/^(States|Lambda)\./.test(error));
    expect(ours.length).toBeGreaterThan(0);
    expect(ours.filter(({ error }) => !workflowErrorNames.has(error))).toEqual([]);
  });

  it('the constants are dotted names, one per error', () => {
    for (const name of workflowErrorNames) expect(name).toMatch(/^[A-Z][a-z]+\.[A-Z][A-Za-z]+$/);
  });

  it("every Task retries Lambda's transient failures with the same retrier", () => {
    expect(tasks.length).toBeGreaterThanOrEqual(9);
    const lambdaRetries = tasks.map(([name, task]) => ({
      name,
      retriers: (task.Retry ?? []).filter(isLambdaRetry),
    }));
    for (const { name, retriers } of lambdaRetries) expect(retriers, name).toHaveLength(1);
    const first = lambdaRetries[0]?.retriers[0];
    expect(first?.ErrorEquals).toContain('Lambda.TooManyRequestsException');
    for (const { name, retriers } of lambdaRetries) expect(retriers[0], name).toEqual(first);
  });
});
