// The recovery as bars on one time axis: a row per stage, a row per instance (its evacuate
// request, then Nova rebuilding it until VerifyInstance reads it back, then the outcome),
// and the moments the floor measures a recovery by. Times are milliseconds from the
// chart's origin (the alert, or the execution's start when the alert came later or is
// unknown). The executions page draws it as SVG, `executions show` as text: one geometry.
import { INSTANCE_OUTCOMES } from './ports.js';
import type { InstanceView, RecoveryTimeline, StageStatus } from './recovery-timeline.js';

/**
 * `evacuate`: EvacuateInstance, the evacuate request (and the lock) until Nova has it.
 * `rebuild`: from then until VerifyInstance knows the outcome (Nova rebuilding it on the
 * target, read every verifyPollMs; the history records when it was seen back, not when Nova
 * finished). `span`: the earliest start to the latest end of the instances a summary row holds.
 */
export type SegmentKind = 'stage' | 'evacuate' | 'rebuild' | 'span';

export interface ChartSegment {
  kind: SegmentKind;
  from: number;
  to: number;
  /** Still under way: it ends at the chart's end for now. */
  open: boolean;
}

export interface ChartRow {
  kind: 'stage' | 'instance' | 'more';
  label: string;
  /** A stage's status or an instance's state (summary rows: the worst of theirs). */
  status: StageStatus | string;
  segments: ChartSegment[];
  /** When the outcome became known (instances), for the end mark. */
  settled: number | null;
  /** One line a person reads on hover (page) or after the bar (CLI). */
  note: string;
}

export type MomentKey = 'alert' | 'power-off' | 'first-evacuate' | 'last-verified';

export interface ChartMark {
  key: MomentKey;
  label: string;
  at: number;
}

export interface TimelineChart {
  origin: Date;
  /** ms from origin to the chart's end (the execution's stop, or now while it runs). */
  span: number;
  /** 'alert' when the axis starts at the alert, 'start' at the execution's start. */
  originIs: 'alert' | 'start';
  rows: ChartRow[];
  marks: ChartMark[];
  instances: { shown: number; total: number };
}

export const MOMENT_LABELS: Record<MomentKey, string> = {
  alert: 'alert received',
  'power-off': 'power verified off',
  'first-evacuate': 'first evacuate sent',
  'last-verified': 'last verified',
};

/** Instance rows shown before the rest are folded into one summary row. */
export const DEFAULT_MAX_INSTANCES = 40;

/** An alert more than this before the start (a resumed incident) would squash the chart. */
const ALERT_LEAD_LIMIT_MS = 15 * 60_000;

const SETTLED = new Set<string>(INSTANCE_OUTCOMES);

export const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

export function timelineChart(
  timeline: RecoveryTimeline,
  options: {
    start: Date;
    /** The execution's stop, or null while it runs (then the chart ends now). */
    stop: Date | null;
    now?: number;
    names?: ReadonlyMap<string, string>;
    maxInstances?: number;
  },
): TimelineChart {
  const { moments } = timeline;
  const alert = moments.alertAt?.getTime() ?? null;
  const start = options.start.getTime();
  const leads = alert !== null && alert <= start && start - alert <= ALERT_LEAD_LIMIT_MS;
  const origin = leads ? (alert as number) : start;
  const end = Math.max(options.stop?.getTime() ?? options.now ?? Date.now(), origin);
  const span = Math.max(end - origin, 1);
  const at = (date: Date | null) => (date ? Math.min(Math.max(date.getTime() - origin, 0), span) : null);

  const rows: ChartRow[] = timeline.stages.map((stage) => {
    const from = at(stage.enteredAt) as number;
    const open = stage.exitedAt === null;
    const to = open ? span : (at(stage.exitedAt) as number);
    return {
      kind: 'stage',
      label: stage.run ? `${stage.name} (re-drive ${stage.run})` : stage.name,
      status: stage.status,
      segments: [{ kind: 'stage', from, to, open: open && stage.status === 'running' }],
      settled: null,
      note: `${stage.name} ${stage.status}, ${seconds(from)} to ${open ? 'now' : seconds(to)}${stage.detail ? `: ${stage.detail}` : ''}`,
    };
  });

  // Instances in the order their evacuation started: the waves read top to bottom.
  const ordered = [...timeline.instances].sort(
    (a, b) => (a.startedAt?.getTime() ?? Infinity) - (b.startedAt?.getTime() ?? Infinity),
  );
  const max = Math.max(0, options.maxInstances ?? DEFAULT_MAX_INSTANCES);
  // One row more than the cap would only replace a row by a summary of one: show it instead.
  const shown = ordered.length <= max + 1 ? ordered : ordered.slice(0, max);
  for (const instance of shown) rows.push(instanceRow(instance, at, span, options.names));
  const rest = ordered.slice(shown.length);
  if (rest.length) rows.push(summaryRow(rest, at, span));

  const marks: ChartMark[] = [];
  const mark = (key: MomentKey, date: Date | null) => {
    const x = at(date);
    if (x !== null) marks.push({ key, label: MOMENT_LABELS[key], at: x });
  };
  if (leads || (alert !== null && alert >= start && alert <= end)) mark('alert', moments.alertAt);
  mark('power-off', moments.powerOffAt);
  mark('first-evacuate', moments.firstEvacuateAt);
  mark('last-verified', moments.lastVerifiedAt);

  return {
    origin: new Date(origin),
    span,
    originIs: leads ? 'alert' : 'start',
    rows,
    marks,
    instances: { shown: shown.length, total: ordered.length },
  };
}

function instanceRow(
  instance: InstanceView,
  at: (date: Date | null) => number | null,
  span: number,
  names: ReadonlyMap<string, string> | undefined,
): ChartRow {
  const started = at(instance.startedAt ?? instance.updatedAt) as number;
  const evacuated = at(instance.evacuatedAt);
  const settled = at(instance.settledAt);
  const segments: ChartSegment[] = [
    {
      kind: 'evacuate',
      from: started,
      to: evacuated ?? settled ?? span,
      open: evacuated === null && settled === null,
    },
  ];
  if (evacuated !== null) {
    segments.push({ kind: 'rebuild', from: evacuated, to: settled ?? span, open: settled === null });
  }
  const where = instance.to ?? instance.target;
  return {
    kind: 'instance',
    label: names?.get(instance.id) ?? instance.id,
    status: instance.state,
    segments,
    settled,
    note: `${instance.state}${where ? ` ${instance.to ? 'on' : 'to'} ${where}` : ''}, evacuate ${seconds(started)}${
      evacuated === null ? '' : `, sent ${seconds(evacuated)}`
    }${settled === null ? '' : `, settled ${seconds(settled)}`}${instance.reason ? `: ${instance.reason}` : ''}`,
  };
}

/** The instances past the cap as one row: from the first start to the last outcome, counted. */
function summaryRow(rest: InstanceView[], at: (date: Date | null) => number | null, span: number): ChartRow {
  const counts = new Map<string, number>();
  for (const instance of rest) counts.set(instance.state, (counts.get(instance.state) ?? 0) + 1);
  const unsettled = rest.some((i) => !SETTLED.has(i.state));
  const from = Math.min(...rest.map((i) => at(i.startedAt ?? i.updatedAt) as number));
  const to = unsettled ? span : Math.max(...rest.map((i) => at(i.settledAt ?? i.updatedAt) as number));
  const status = counts.has('failed') ? 'failed' : unsettled ? 'rebuilding' : 'recovered';
  return {
    kind: 'more',
    label: `+${rest.length} more`,
    status,
    segments: [{ kind: 'span', from, to, open: unsettled }],
    settled: unsettled ? null : to,
    note: `${rest.length} more instances: ${[...counts].map(([state, n]) => `${n} ${state}`).join(', ')}`,
  };
}

/** A tick every 1, 2 or 5 × 10^n seconds (and whole minutes past a minute): at most `most` of them. */
export function tickStep(span: number, most = 8): number {
  const steps = [100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000];
  return steps.find((step) => span / step <= most) ?? Math.ceil(span / most / 600_000) * 600_000;
}

export function ticks(span: number, most = 8): number[] {
  const step = tickStep(span, most);
  return Array.from({ length: Math.floor(span / step) + 1 }, (_, i) => i * step);
}

/** "0", "5 s", "1 min 30 s": a tick's label. */
export function tickLabel(ms: number): string {
  if (ms === 0) return '0';
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))} s`;
  const minutes = Math.floor(ms / 60_000);
  const rest = Math.round((ms % 60_000) / 1000);
  return rest ? `${minutes} min ${rest} s` : `${minutes} min`;
}
