// The confirmation loop as the operator reads it (issue 15, item 11): ConfirmHostFailure,
// NovaVerdict and WaitForNova are one stage that stays running while it waits for Nova and
// then says how many reads it took. The history is written here the way AWS and the local
// endpoint record it: events chained by previousEventId.
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { confirmText, recoveryTimeline } from '../../core/recovery-timeline.js';
import { loadDefinition } from '../../engine/definition.js';

const TOP_LEVEL = new Set(Object.keys(loadDefinition().States as object));
const T0 = Date.parse('2026-03-01T10:00:00.000Z');

function history() {
  const events: HistoryEvent[] = [];
  const add = (ms: number, type: string, details: Partial<HistoryEvent> = {}) => {
    const id = events.length + 1;
    events.push({
      id,
      previousEventId: id - 1,
      timestamp: new Date(T0 + ms),
      type,
      ...details,
    } as HistoryEvent);
  };
  const input = { host: 'compute-1', incident: 'i-1', requestedAt: new Date(T0 - 500).toISOString() };
  add(0, 'ExecutionStarted', { executionStartedEventDetails: { input: JSON.stringify(input) } });
  const read = (ms: number, confirm: Record<string, unknown>) => {
    const output = JSON.stringify({ ...input, confirm });
    add(ms, 'TaskStateEntered', { stateEnteredEventDetails: { name: 'ConfirmHostFailure', input: '{}' } });
    add(ms, 'TaskScheduled');
    add(ms + 40, 'TaskSucceeded');
    add(ms + 40, 'TaskStateExited', { stateExitedEventDetails: { name: 'ConfirmHostFailure', output } });
    add(ms + 40, 'ChoiceStateEntered', { stateEnteredEventDetails: { name: 'NovaVerdict', input: output } });
    add(ms + 40, 'ChoiceStateExited', { stateExitedEventDetails: { name: 'NovaVerdict', output } });
  };
  const wait = (ms: number) =>
    add(ms, 'WaitStateEntered', { stateEnteredEventDetails: { name: 'WaitForNova', input: '{}' } });
  const waited = (ms: number) =>
    add(ms, 'WaitStateExited', { stateExitedEventDetails: { name: 'WaitForNova', output: '{}' } });
  const fence = (ms: number) =>
    add(ms, 'TaskStateEntered', { stateEnteredEventDetails: { name: 'FenceHost', input: '{}' } });
  return { events, read, wait, waited, fence };
}

const waiting = (checks: number) => ({
  status: 'waiting',
  checks,
  evidence: 'waiting for Nova to agree: nova-compute on compute-1 last reported 12 s ago (stale after 30 s)',
});

describe('the confirmation stage', () => {
  it('stays running while it waits for Nova, saying what Nova shows', () => {
    const h = history();
    h.read(0, waiting(1));
    h.wait(40);
    let [stage] = recoveryTimeline(h.events, TOP_LEVEL).stages;
    expect(stage).toMatchObject({
      name: 'ConfirmHostFailure',
      status: 'running',
      exitedAt: null,
      attempts: 1,
    });
    expect(stage?.detail).toBe(
      'waiting for Nova: nova-compute on compute-1 last reported 12 s ago (stale after 30 s)',
    );

    h.waited(10_040);
    h.read(10_040, waiting(2));
    h.wait(10_080);
    const timeline = recoveryTimeline(h.events, TOP_LEVEL);
    expect(timeline.stages).toHaveLength(1);
    [stage] = timeline.stages;
    expect(stage).toMatchObject({ status: 'running', attempts: 2 });
  });

  it('reads "confirmed after N reads of Nova" once Nova agrees, as one stage', () => {
    const h = history();
    h.read(0, waiting(1));
    h.wait(40);
    h.waited(10_040);
    h.read(10_040, waiting(2));
    h.wait(10_080);
    h.waited(20_080);
    h.read(20_080, {
      status: 'confirmed',
      checks: 3,
      evidence: 'Nova reports nova-compute on compute-1 down',
    });
    h.fence(20_120);
    const { stages, moments } = recoveryTimeline(h.events, TOP_LEVEL);
    expect(stages.map((s) => s.name)).toEqual(['ConfirmHostFailure', 'FenceHost']);
    expect(stages[0]).toMatchObject({
      status: 'succeeded',
      attempts: 3,
      detail: 'confirmed after 3 reads of Nova: Nova reports nova-compute on compute-1 down',
    });
    expect(stages[0]?.exitedAt?.getTime()).toBe(T0 + 20_120);
    expect(moments.alertAt?.getTime()).toBe(T0 - 500);
  });

  it('words every outcome of a read', () => {
    expect(confirmText({ status: 'confirmed', checks: 1, evidence: 'down' })).toBe(
      'confirmed after 1 read of Nova: down',
    );
    expect(confirmText({ status: 'not-down', checks: 4, evidence: 'it reported again' })).toBe(
      'not down after 4 reads of Nova: it reported again',
    );
    expect(confirmText({ status: 'refused', checks: 1, evidence: 'fleet paused' })).toBe(
      'refused: fleet paused',
    );
    expect(confirmText(undefined)).toBeNull();
  });
});
