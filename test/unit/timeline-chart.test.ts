// The recovery timeline's geometry (core/timeline-chart.ts) and its text form in
// `executions show` (cli/timeline-text.ts), on recoveries written out by hand: the
// axis origin, the floor's moments, bars still running, and a 1000-instance recovery
// kept to a readable number of rows.
import { describe, expect, it } from 'vitest';
import { barWidth, timelineText } from '../../cli/timeline-text.js';
import type { InstanceView, RecoveryTimeline, StageView } from '../../core/recovery-timeline.js';
import { tickStep, timelineChart } from '../../core/timeline-chart.js';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms);

const stage = (name: string, from: number, to: number | null, status: StageView['status'] = 'succeeded') => ({
  name,
  run: 0,
  status: to === null ? 'running' : status,
  enteredAt: at(from),
  exitedAt: to === null ? null : at(to),
  attempts: 1,
  detail: null,
  error: null,
});

function instance(i: number, start: number, sent: number, settled: number | null, state = 'recovered') {
  return {
    id: `${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`,
    from: 'compute-1',
    to: settled === null ? null : 'compute-2',
    target: 'compute-2',
    state: settled === null ? 'rebuilding' : state,
    final: settled === null ? null : 'ACTIVE',
    seconds: null,
    reason: null,
    startedAt: at(start),
    evacuatedAt: at(sent),
    settledAt: settled === null ? null : at(settled),
    updatedAt: at(settled ?? sent),
  } satisfies InstanceView;
}

function recovery(instances: InstanceView[], evacuateEnd: number | null): RecoveryTimeline {
  return {
    stages: [
      stage('ConfirmHostFailure', 0, 1_000),
      stage('FenceHost', 1_000, 1_500),
      stage('VerifyPowerOff', 1_500, 3_000),
      stage('EvacuateInstances', 3_000, evacuateEnd),
    ],
    instances,
    redrives: [],
    moments: {
      alertAt: at(-2_000),
      powerOffAt: at(3_000),
      firstEvacuateAt: at(3_200),
      lastVerifiedAt: evacuateEnd === null ? null : at(evacuateEnd),
    },
  };
}

describe('timeline chart', () => {
  it('starts the axis at the alert and marks the moments the floor measures', () => {
    const timeline = recovery([instance(1, 3_000, 3_200, 9_000), instance(2, 3_100, 3_300, 11_000)], 11_000);
    const chart = timelineChart(timeline, { start: at(0), stop: at(12_000) });
    expect(chart.originIs).toBe('alert');
    expect(chart.span).toBe(14_000);
    expect(chart.marks.map((m) => [m.key, m.at])).toEqual([
      ['alert', 0],
      ['power-off', 5_000],
      ['first-evacuate', 5_200],
      ['last-verified', 13_000],
    ]);
    expect(chart.rows.map((r) => r.kind)).toEqual([
      'stage',
      'stage',
      'stage',
      'stage',
      'instance',
      'instance',
    ]);
    expect(chart.rows[4]?.segments).toEqual([
      { kind: 'evacuate', from: 5_000, to: 5_200, open: false },
      { kind: 'rebuild', from: 5_200, to: 11_000, open: false },
    ]);
    expect(chart.rows[4]?.settled).toBe(11_000);

    // A resumed incident's alert hours before the start would squash every bar: axis from the start.
    timeline.moments.alertAt = at(-3 * 3_600_000);
    const late = timelineChart(timeline, { start: at(0), stop: at(12_000) });
    expect(late.originIs).toBe('start');
    expect(late.marks.map((m) => m.key)).not.toContain('alert');
  });

  it('draws what still runs up to now, open-ended', () => {
    const timeline = recovery([instance(1, 3_000, 3_200, 9_000), instance(2, 3_100, 3_300, null)], null);
    const chart = timelineChart(timeline, { start: at(0), stop: null, now: T0 + 10_000 });
    expect(chart.span).toBe(12_000);
    const evacuate = chart.rows.find((r) => r.label === 'EvacuateInstances');
    expect(evacuate?.segments).toEqual([{ kind: 'stage', from: 5_000, to: 12_000, open: true }]);
    expect(chart.rows.at(-1)?.segments.at(-1)).toEqual({
      kind: 'rebuild',
      from: 5_300,
      to: 12_000,
      open: true,
    });
    expect(chart.marks.map((m) => m.key)).toEqual(['alert', 'power-off', 'first-evacuate']);

    const lines = timelineText(chart, 48);
    const row = (label: string) => lines.find((line) => line.trimStart().startsWith(label)) ?? '';
    expect(row('EvacuateInstances')).toMatch(/█› {2}5\.0–… running$/);
    // No name: the id's first 8 characters.
    expect(row('00000002 ')).toMatch(/▓▒+› {2}5\.1–… rebuilding$/);
    expect(row('00000001 ')).toMatch(/^ {2}00000001 +\s+▓▒+✓ +5\.0–11\.0 s recovered$/);
  });

  it('keeps 1000 instances to the first rows and one summary row, on the page and in a terminal', () => {
    const instances = Array.from({ length: 1000 }, (_, i) =>
      instance(i, 3_000 + i * 10, 3_100 + i * 10, 20_000 + i * 20, i % 200 === 199 ? 'failed' : 'recovered'),
    );
    const timeline = recovery(instances.reverse(), 40_000);
    const chart = timelineChart(timeline, { start: at(0), stop: at(41_000) });
    expect(chart.instances).toEqual({ shown: 40, total: 1000 });
    const rows = chart.rows.filter((r) => r.kind !== 'stage');
    expect(rows).toHaveLength(41);
    // In the order their evacuation started, whatever the order they came in.
    expect(rows.slice(0, 40).map((r) => Number(r.label.slice(0, 8)))).toEqual(
      Array.from({ length: 40 }, (_, i) => i),
    );
    const more = rows.at(-1);
    expect(more).toMatchObject({ kind: 'more', label: '+960 more', status: 'failed' });
    expect(more?.note).toBe('960 more instances: 955 recovered, 5 failed');
    expect(more?.segments).toEqual([{ kind: 'span', from: 5_400, to: 41_980, open: false }]);

    const terminal = timelineChart(timeline, { start: at(0), stop: at(41_000), maxInstances: 20 });
    const lines = timelineText(terminal, barWidth(100));
    expect(lines.filter((line) => /recovered$|failed$/.test(line))).toHaveLength(21);
    expect(lines).toContain('  (the first 20 of 1000 instances; the rest are the last row)');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(100);

    // One more than the cap is shown, not summed up as "+1 more".
    const fortyOne = timelineChart(recovery(instances.slice(0, 41), 40_000), {
      start: at(0),
      stop: at(41_000),
    });
    expect(fortyOne.instances).toEqual({ shown: 41, total: 41 });
  });

  it('scales bars to the width and puts ticks at round seconds', () => {
    const timeline = recovery([], 10_000);
    const chart = timelineChart(timeline, { start: at(0), stop: at(10_000) });
    const lines = timelineText(chart, 60);
    const bar = (label: string) => /█+/.exec(lines.find((l) => l.includes(label)) ?? '')?.[0].length ?? 0;
    const confirm = lines.find((l) => l.includes('ConfirmHostFailure')) ?? '';
    // 12 s on 60 columns: ConfirmHostFailure (2 s to 3 s) starts at column 10 and is 5 wide.
    expect(confirm.indexOf('█') - confirm.indexOf('ConfirmHostFailure') - 'ConfirmHostFailure  '.length).toBe(
      10,
    );
    expect(bar('ConfirmHostFailure')).toBe(5);
    expect(bar('EvacuateInstances')).toBe(60 - 25);
    // The axis: its labels at their columns, under the bars.
    const axis = lines[1] ?? '';
    expect(axis.indexOf('0 ')).toBe(confirm.indexOf('ConfirmHostFailure') + 'ConfirmHostFailure  '.length);
    expect(axis.trim().split(/\s{2,}/)).toEqual(['0', '5 s', '10 s']);
    expect(tickStep(12_000, 8)).toBe(2_000);
    expect(tickStep(90_000, 8)).toBe(15_000);
    expect(tickStep(3_600_000, 8)).toBe(600_000);
  });
});
