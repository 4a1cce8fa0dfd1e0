// Where a re-driven execution picks up, from the events its interrupted run recorded.
import { describe, expect, it } from 'vitest';
import { loadDefinition } from '../../engine/definition.js';
import type { StoredEvent } from '../../engine/history.js';
import { resumePoint } from '../../engine/resume-point.js';

const definition = loadDefinition() as { States: object };
const state = (type: 'StateEntered' | 'StateExited', name: string, data: unknown, index?: number) =>
  ({
    type,
    timestamp: 0,
    state: { name, type: 'Task', input: data, output: data },
    ...(index === undefined ? {} : { index }),
  }) as StoredEvent;

describe('resumePoint', () => {
  it('is the top-level state that was running, with the input it had (inner Map states do not count)', () => {
    const events = [
      state('StateEntered', 'ConfirmHostFailure', { a: 1 }),
      state('StateExited', 'ConfirmHostFailure', { a: 2 }),
      state('StateEntered', 'EvacuateInstances', { ids: ['x'] }),
      state('StateEntered', 'EvacuateInstance', { id: 'x' }, 0),
      state('StateExited', 'EvacuateInstance', { id: 'x' }, 0),
    ];
    expect(resumePoint(events, definition)).toEqual({ state: 'EvacuateInstances', input: { ids: ['x'] } });
  });

  it('is the next state, with the last output, when the process died between two states', () => {
    const events = [
      state('StateEntered', 'FenceHost', { b: 1 }),
      state('StateExited', 'FenceHost', { fence: 'done' }),
    ];
    expect(resumePoint(events, definition)).toEqual({ state: 'VerifyPowerOff', input: { fence: 'done' } });
  });

  it('is the start when nothing ran, or after a Choice whose branch is not known', () => {
    expect(resumePoint([], definition)).toBeNull();
    const afterChoice = [
      state('StateEntered', 'RecoveryOutcome', {}),
      state('StateExited', 'RecoveryOutcome', {}),
    ];
    expect(resumePoint(afterChoice, definition)).toBeNull();
  });
});
