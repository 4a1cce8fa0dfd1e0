// The recovery timeline on the executions page: inline SVG drawn on the server from the
// shared geometry (core/timeline-chart.ts). No script and nothing external, so it works
// under the page's content-security policy (default-src 'none'); hovering a bar shows its
// <title>. Colours come from the page's stylesheet (TIMELINE_STYLE).
import { MOMENT_LABELS, seconds, type TimelineChart, tickLabel, ticks } from '../core/timeline-chart.js';
import { escapeHtml } from './escape-html.js';

const WIDTH = 1200;
const LABEL_WIDTH = 200;
const RIGHT_PAD = 48;
const ROW = 18;
const BAR = 10;
const LANE = 14;
/** Between the stage rows and the instance rows. */
const GAP = 10;
/** Average glyph width of the 11-unit labels, to keep mark labels from overlapping. */
const GLYPH = 6.2;
const MAX_LABEL = 30;

export const TIMELINE_STYLE = `
  svg.timeline { width: 100%; height: auto; background: #fff; border: 1px solid #d9dee7; font: 12px system-ui, sans-serif; }
  svg.timeline .stripe { fill: #f6f8fb; }
  svg.timeline .tick { stroke: #e4e8ef; } svg.timeline .tick-label { fill: #667085; font-size: 11px; }
  svg.timeline .label { fill: #1d2433; } svg.timeline .label.id { font: 11px ui-monospace, monospace; fill: #41506b; }
  svg.timeline .bar.stage { fill: #8da2c6; } svg.timeline .bar.stage.running { fill: #3b73d1; }
  svg.timeline .bar.stage.failed { fill: #d64541; } svg.timeline .bar.stage.caught, svg.timeline .bar.stage.aborted, svg.timeline .bar.stage.interrupted { fill: #e0a030; }
  svg.timeline .bar.evacuate { fill: #c77700; } svg.timeline .bar.rebuild { fill: #9cc3f0; }
  svg.timeline .bar.span { fill: #c3cbd9; } svg.timeline .bar.span.failed { fill: #efb3b0; } svg.timeline .bar.open { fill-opacity: .6; stroke: #3b73d1; stroke-dasharray: 3 2; }
  svg.timeline .outcome { stroke: #fff; stroke-width: 1.5; } svg.timeline .outcome.recovered, svg.timeline .outcome.already-recovered { fill: #17663a; }
  svg.timeline .outcome.failed { fill: #d64541; } svg.timeline .outcome.gone { fill: #98a2b3; }
  svg.timeline .mark { stroke-width: 1.5; stroke-dasharray: 4 3; } svg.timeline text.mark-label { font-size: 11px; font-weight: 600; stroke: none; }
  svg.timeline .alert { stroke: #b54708; fill: #b54708; } svg.timeline .power-off { stroke: #6941c6; fill: #6941c6; }
  svg.timeline .first-evacuate { stroke: #c77700; fill: #a15c00; } svg.timeline .last-verified { stroke: #17663a; fill: #17663a; }
  .legend { display: flex; gap: 1.25rem; flex-wrap: wrap; font-size: .8rem; color: #41506b; margin: .4rem 0; }
  .legend .swatch { display: inline-block; width: 1.4em; height: .7em; margin-right: .35em; vertical-align: baseline; border-radius: 2px; }
  .legend .stage { background: #8da2c6; } .legend .evacuate { background: #c77700; } .legend .rebuild { background: #9cc3f0; }
  .legend .verified { background: #17663a; width: .7em; border-radius: 50%; } .legend .span { background: #c3cbd9; }`;

const clip = (text: string) => (text.length > MAX_LABEL ? `${text.slice(0, MAX_LABEL - 1)}…` : text);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-/i;

export function timelineSvg(chart: TimelineChart): string {
  const plot = WIDTH - LABEL_WIDTH - RIGHT_PAD;
  const x = (ms: number) => LABEL_WIDTH + (ms / chart.span) * plot;
  const fixed = (n: number) => Number(n.toFixed(1));

  // Mark labels in lanes above the axis: a label goes to the first lane it does not overlap.
  const lanes: number[] = [];
  const placed = [...chart.marks]
    .sort((a, b) => a.at - b.at)
    .map((mark) => {
      const text = `${mark.label} +${seconds(mark.at)}`;
      const width = text.length * GLYPH;
      const anchorEnd = x(mark.at) + width > WIDTH - 4;
      const left = anchorEnd ? x(mark.at) - width : x(mark.at);
      let lane = lanes.findIndex((right) => right < left - 6);
      if (lane < 0) lane = lanes.push(0) - 1;
      lanes[lane] = left + width;
      return { mark, text, lane, anchorEnd };
    });
  const axisY = lanes.length * LANE + 14;
  const top = axisY + 8;
  const stageRows = chart.rows.filter((row) => row.kind === 'stage').length;
  const rowY = (index: number) => top + index * ROW + (index >= stageRows ? GAP : 0);
  const bottom = rowY(chart.rows.length) + 4;

  const parts: string[] = [];
  parts.push(
    `<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${bottom}" width="${WIDTH}" height="${bottom}" role="img" aria-labelledby="timeline-title">`,
    `<title id="timeline-title">Recovery timeline: ${chart.rows.length} rows, seconds from the ${chart.originIs === 'alert' ? 'alert' : 'start'}</title>`,
  );
  chart.rows.forEach((_, index) => {
    if (index % 2 === 1)
      parts.push(`<rect class="stripe" x="0" y="${rowY(index)}" width="${WIDTH}" height="${ROW}"/>`);
  });
  for (const tick of ticks(chart.span)) {
    parts.push(
      `<line class="tick" x1="${fixed(x(tick))}" y1="${axisY + 4}" x2="${fixed(x(tick))}" y2="${bottom}"/>`,
      `<text class="tick-label" x="${fixed(x(tick))}" y="${axisY}" text-anchor="middle">${escapeHtml(tickLabel(tick))}</text>`,
    );
  }
  chart.rows.forEach((row, index) => {
    const y = rowY(index);
    const barY = y + (ROW - BAR) / 2;
    const indent = row.kind === 'stage' ? 4 : 14;
    const id = row.kind === 'instance' && UUID.test(row.label);
    parts.push(
      `<g class="row" data-kind="${row.kind}" data-label="${escapeHtml(row.label)}" data-status="${escapeHtml(row.status)}">`,
      `<title>${escapeHtml(row.label)}: ${escapeHtml(row.note)}</title>`,
      `<text class="label${id ? ' id' : ''}" x="${indent}" y="${y + ROW - 5}">${escapeHtml(clip(row.label))}</text>`,
    );
    for (const segment of row.segments) {
      const left = x(segment.from);
      // Instant states (a Choice, a Succeed) still get a visible sliver.
      const width = Math.max(x(segment.to) - left, 2);
      const classes = [
        'bar',
        segment.kind,
        row.kind === 'instance' ? '' : row.status,
        segment.open ? 'open' : '',
      ]
        .filter(Boolean)
        .join(' ');
      parts.push(
        `<rect class="${escapeHtml(classes)}" data-from="${segment.from}" data-to="${segment.to}" x="${fixed(left)}" y="${barY}" width="${fixed(width)}" height="${BAR}" rx="2"/>`,
      );
    }
    if (row.settled !== null) {
      parts.push(
        `<circle class="outcome ${escapeHtml(row.status)}" data-at="${row.settled}" cx="${fixed(x(row.settled))}" cy="${y + ROW / 2}" r="4.5"/>`,
      );
    }
    parts.push('</g>');
  });
  for (const { mark, text, lane, anchorEnd } of placed) {
    const mx = fixed(x(mark.at));
    parts.push(
      `<g class="moment" data-mark="${mark.key}" data-at="${mark.at}"><title>${escapeHtml(MOMENT_LABELS[mark.key])} at +${seconds(mark.at)}</title>`,
      `<line class="mark ${mark.key}" x1="${mx}" y1="${lane * LANE + 4}" x2="${mx}" y2="${bottom}"/>`,
      `<text class="mark-label ${mark.key}" x="${anchorEnd ? mx - 3 : mx + 3}" y="${lane * LANE + 13}" text-anchor="${anchorEnd ? 'end' : 'start'}">${escapeHtml(text)}</text></g>`,
    );
  }
  parts.push('</svg>');
  return parts.join('\n');
}

/** The timeline section of an execution's page: the chart, its legend, and what was left out. */
export function timelineSection(chart: TimelineChart): string {
  const { shown, total } = chart.instances;
  const capped =
    shown < total
      ? `<p class="muted timeline-cap">Showing the first ${escapeHtml(shown)} of ${escapeHtml(total)} instances, in the order their evacuation started; the other ${escapeHtml(total - shown)} are summed up in the last row. The table below lists every instance.</p>`
      : '';
  if (!chart.rows.length) return '<h2>Timeline</h2>\n<p class="muted">Nothing has run yet.</p>';
  return `<h2>Timeline</h2>
${timelineSvg(chart)}
<div class="legend"><span><span class="swatch stage"></span>stage</span><span><span class="swatch evacuate"></span>evacuate request</span><span><span class="swatch rebuild"></span>rebuilding, until verified</span><span><span class="swatch verified"></span>outcome known</span>${shown < total ? '<span><span class="swatch span"></span>more instances, first start to last outcome</span>' : ''}<span class="muted">seconds from the ${chart.originIs === 'alert' ? 'alert' : 'start of the execution'}; dashed: the moments the floor measures</span></div>
${capped}`;
}
