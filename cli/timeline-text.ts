// The recovery timeline in `executions show`: the executions page's chart as text, from the
// same geometry (core/timeline-chart.ts). One line per stage and per instance, a bar on a
// shared axis, its times in seconds from the chart's origin, then the floor's moments.
import {
  type ChartRow,
  type MomentKey,
  type TimelineChart,
  tickLabel,
  ticks,
} from '../core/timeline-chart.js';

const GLYPHS = { stage: '█', evacuate: '▓', rebuild: '▒', span: '░' } as const;
const OUTCOME: Record<string, string> = { recovered: '✓', 'already-recovered': '✓', failed: '✗', gone: '·' };
const LETTERS: Record<MomentKey, string> = {
  alert: 'A',
  'power-off': 'P',
  'first-evacuate': 'E',
  'last-verified': 'V',
};
const MAX_LABEL = 24;
const MIN_BAR = 20;
const MAX_BAR = 100;
/** Room kept right of the bar for "  12.34–56.78 s already-recovered". */
const SUFFIX = 30;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A row's label: an instance without a name by its id's first 8 characters, as git shortens. */
const shortLabel = (text: string) => {
  const short = UUID.test(text) ? text.slice(0, 8) : text;
  return short.length > MAX_LABEL ? `${short.slice(0, MAX_LABEL - 1)}…` : short;
};

/** Items joined on lines no wider than `width`. */
function wrap(items: string[], width: number, separator = '   '): string[] {
  const lines: string[] = [];
  for (const item of items) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + separator.length + item.length <= width)
      lines[lines.length - 1] = `${last}${separator}${item}`;
    else lines.push(`  ${item}`);
  }
  return lines;
}

/** The bar width for a terminal `columns` wide (not a terminal: 100 columns). */
export function barWidth(columns: number | undefined): number {
  const total = columns && columns > 0 ? columns : 100;
  return Math.min(MAX_BAR, Math.max(MIN_BAR, total - 2 - MAX_LABEL - 2 - SUFFIX));
}

/** The chart's lines, its bars `width` columns wide (a line: at most 2 + 24 + 2 + width + 30). */
export function timelineText(chart: TimelineChart, width: number): string[] {
  if (!chart.rows.length) return [];
  const labels = chart.rows.map((row) => shortLabel(row.label));
  const label = Math.max('moments'.length, ...labels.map((text) => text.length));
  const lineWidth = 2 + label + 2 + width + SUFFIX;
  const indent = `  ${' '.repeat(label)}  `;
  // One precision for the whole chart, so the columns of times line up.
  const digits = chart.span < 10_000 ? 2 : chart.span < 100_000 ? 1 : 0;
  const sec = (ms: number) => (ms / 1000).toFixed(digits);
  const column = (ms: number) => Math.min(width - 1, Math.floor((ms / chart.span) * width));
  // A bar covers the columns its time touches: [from, to) on the axis.
  const lastColumn = (ms: number) => Math.min(width - 1, Math.ceil((ms / chart.span) * width) - 1);

  // Tick labels where they fit without touching the one before.
  const axis = Array<string>(width + 8).fill(' ');
  let free = 0;
  for (const tick of ticks(chart.span, Math.max(2, Math.floor(width / 12)))) {
    const text = tickLabel(tick);
    const at = column(tick);
    if (at < free || at + text.length > axis.length) continue;
    axis.splice(at, text.length, ...text);
    free = at + text.length + 2;
  }

  const bar = (row: ChartRow) => {
    const cells = Array<string>(width).fill(' ');
    let next = 0;
    for (const segment of row.segments) {
      // Each phase keeps at least its own column: a 30 ms evacuate request next to a 40 s rebuild.
      const from = Math.min(width - 1, Math.max(column(segment.from), next));
      const to = Math.max(from, lastColumn(segment.to));
      next = to + 1;
      for (let i = from; i <= to; i++) cells[i] = GLYPHS[segment.kind];
      if (segment.open) cells[to] = '›';
    }
    // The outcome ends the bar, even where a phase was widened to its one column.
    if (row.settled !== null) cells[Math.max(column(row.settled), next - 1)] = OUTCOME[row.status] ?? '|';
    return cells.join('');
  };
  const times = (row: ChartRow) => {
    const from = Math.min(...row.segments.map((s) => s.from));
    const to = Math.max(...row.segments.map((s) => s.to));
    const open = row.segments.some((s) => s.open);
    return `${sec(from)}–${open ? '…' : `${sec(to)} s`}`;
  };

  const lines = [
    `timeline (seconds from the ${chart.originIs === 'alert' ? 'alert' : 'start'}; one column ${(chart.span / width / 1000).toFixed(digits + 1)} s):`,
    `${indent}${axis.join('').trimEnd()}`,
  ];
  chart.rows.forEach((row, index) => {
    const status = row.kind === 'stage' ? (row.status === 'succeeded' ? '' : row.status) : row.status;
    const text = (labels[index] ?? '').padEnd(label);
    lines.push(`  ${text}  ${bar(row)}  ${times(row)}${status ? ` ${status}` : ''}`.trimEnd());
  });
  if (chart.instances.shown < chart.instances.total) {
    lines.push(
      `  (the first ${chart.instances.shown} of ${chart.instances.total} instances; the rest are the last row)`,
    );
  }
  if (chart.marks.length) {
    // Each moment's letter at its column, or just right of it when another took that column.
    const cells = Array<string>(width + chart.marks.length).fill(' ');
    for (const mark of chart.marks) {
      let at = column(mark.at);
      while (cells[at] !== ' ') at++;
      cells[at] = LETTERS[mark.key];
    }
    lines.push(`  ${'moments'.padEnd(label)}  ${cells.join('').trimEnd()}`);
    lines.push(
      ...wrap(
        chart.marks.map((m) => `${LETTERS[m.key]} ${m.label} +${sec(m.at)} s`),
        lineWidth,
      ),
    );
  }
  lines.push(
    ...wrap(
      [
        `${GLYPHS.stage} stage`,
        `${GLYPHS.evacuate} evacuate request`,
        `${GLYPHS.rebuild} rebuilding, until verified`,
        '✓ ✗ outcome',
        '› still running',
      ],
      lineWidth,
      '  ',
    ),
  );
  return lines;
}
