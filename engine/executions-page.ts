// The executions page of `freezer-dr serve`: plain server-rendered HTML, every value
// escaped. The list shows host, status and duration; one execution shows its recovery as a
// timeline (inline SVG), then its stages and its instances as tables. Pages of running
// executions reload themselves (meta refresh: the policy allows no script).
import type { DescribeExecutionOutput, ExecutionListItem } from '@aws-sdk/client-sfn';
import {
  causeText,
  destination,
  type InstanceView,
  type RecoveryTimeline,
  type StageStatus,
} from '../core/recovery-timeline.js';
import { timelineChart } from '../core/timeline-chart.js';
import { escapeHtml } from './escape-html.js';
import { TIMELINE_STYLE, timelineSection } from './timeline-svg.js';

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

const time = (date: Date | null | undefined) =>
  date ? date.toISOString().replace('T', ' ').slice(0, 19) : '';
const clock = (date: Date | null | undefined) => (date ? date.toISOString().slice(11, 23) : '');

const STYLE = `
  body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem; color: #1d2433; background: #fafbfc; }
  h1 { font-size: 1.35rem; margin: 0 0 .25rem; } h2 { font-size: 1.05rem; margin: 1.75rem 0 .5rem; }
  a { color: #1f5fbf; } .muted { color: #667085; }
  table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #d9dee7; }
  th, td { text-align: left; padding: .4rem .65rem; border-bottom: 1px solid #eceff4; vertical-align: top; }
  th { background: #f1f3f7; font-weight: 600; font-size: .85rem; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85rem; }
  h1.mono { font-size: 1.25rem; }
  .status { display: inline-block; padding: .05rem .5rem; border-radius: .75rem; font-size: .8rem; font-weight: 600; }
  .RUNNING, .running { background: #e0ecff; color: #1f4fa0; }
  .SUCCEEDED, .succeeded, .recovered, .already-recovered { background: #def7e5; color: #17663a; }
  .FAILED, .failed, .TIMED_OUT { background: #fde2e1; color: #a3261f; }
  .ABORTED, .aborted, .interrupted, .caught, .gone { background: #fff1d6; color: #8a5a00; }
  .evacuating, .rebuilding, .in-progress, .already-moved { background: #eef0f4; color: #41506b; }
  .summary { display: flex; gap: 2rem; flex-wrap: wrap; margin: .75rem 0; }
  .summary div span { display: block; font-size: .75rem; color: #667085; text-transform: uppercase; letter-spacing: .03em; }
  tr.redrive td { background: #fff8e6; font-style: italic; }
  .error { color: #a3261f; }
  footer { margin-top: 2rem; font-size: .8rem; color: #667085; }`;

function layout(title: string, body: string, refreshSeconds: number | null): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
${refreshSeconds ? `<meta http-equiv="refresh" content="${refreshSeconds}">` : ''}
<title>${escapeHtml(title)} · freezer-dr</title><style>${STYLE}${TIMELINE_STYLE}</style></head>
<body>${body}
<footer>freezer-dr local executions · the same data as the Step Functions API on this port${refreshSeconds ? ' · refreshing every 2 s while running' : ''}</footer>
</body></html>`;
}

/** The execution input as an object; anything else (Step Functions accepts any JSON) reads as empty. */
export function inputObject(input: string | undefined): Record<string, unknown> {
  try {
    const value = JSON.parse(input ?? '{}') as unknown;
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

const badge = (status: string) => `<span class="status ${escapeHtml(status)}">${escapeHtml(status)}</span>`;
const durationOf = (start: Date | undefined, stop: Date | undefined, now: number) =>
  start ? formatDuration((stop?.getTime() ?? now) - start.getTime()) : '';

export interface ListedExecution extends ExecutionListItem {
  host: string | null;
}

export function renderExecutionList(executions: ListedExecution[], now = Date.now()): string {
  const rows = executions
    .map(
      (e) => `<tr>
  <td><a href="/executions/${encodeURIComponent(e.name ?? '')}" class="mono">${escapeHtml(e.name)}</a></td>
  <td>${escapeHtml(e.host ?? '')}</td>
  <td>${badge(e.status ?? '')}${e.redriveCount ? ` <span class="muted">re-driven ${escapeHtml(e.redriveCount)}×</span>` : ''}</td>
  <td class="num">${escapeHtml(time(e.startDate))}</td>
  <td class="num">${escapeHtml(durationOf(e.startDate, e.stopDate, now))}</td>
</tr>`,
    )
    .join('\n');
  const running = executions.some((e) => e.status === 'RUNNING');
  const body = `<h1>Executions</h1>
<p class="muted">Host recoveries run by this <code>freezer-dr serve</code> (statemachine/host-recovery.asl.json), newest first.</p>
${
  executions.length
    ? `<table><thead><tr><th>Execution</th><th>Host</th><th>Status</th><th>Started (UTC)</th><th>Duration</th></tr></thead>
<tbody>
${rows}
</tbody></table>`
    : '<p>No executions yet. Fire a test alert: <code>npm run freezer-dr -- fire compute-1</code></p>'
}`;
  return layout('Executions', body, running ? 2 : null);
}

const STAGE_WORDS: Record<StageStatus, string> = {
  running: 'running',
  succeeded: 'succeeded',
  caught: 'caught',
  failed: 'failed',
  aborted: 'aborted',
  interrupted: 'interrupted',
};

function destinationCell(instance: InstanceView): string {
  const { host, planned } = destination(instance);
  return `${escapeHtml(host ?? '')}${planned ? ' <span class="muted">(planned)</span>' : ''}`;
}

export function renderExecution(
  execution: DescribeExecutionOutput,
  timeline: RecoveryTimeline,
  names: ReadonlyMap<string, string> = new Map(),
  now = Date.now(),
): string {
  const input = inputObject(execution.input);
  const start = execution.startDate?.getTime() ?? now;
  const since = (date: Date) => `+${formatDuration(date.getTime() - start)}`;
  const redrives = [...timeline.redrives];
  const stageRows: string[] = [];
  for (const stage of timeline.stages) {
    while (redrives.length && (redrives[0] as { at: Date }).at.getTime() <= stage.enteredAt.getTime()) {
      const redrive = redrives.shift() as { at: Date; count: number };
      stageRows.push(
        `<tr class="redrive"><td colspan="5">${escapeHtml(clock(redrive.at))} · re-driven after a restart (${escapeHtml(redrive.count)}): the steps run again from the start and skip what is already done</td></tr>`,
      );
    }
    const duration = formatDuration((stage.exitedAt?.getTime() ?? now) - stage.enteredAt.getTime());
    stageRows.push(`<tr>
  <td class="mono">${escapeHtml(stage.name)}</td>
  <td>${badge(STAGE_WORDS[stage.status])}${stage.attempts > 1 ? ` <span class="muted">${escapeHtml(stage.attempts)} attempts</span>` : ''}</td>
  <td class="num">${escapeHtml(clock(stage.enteredAt))}<br><span class="muted">${escapeHtml(since(stage.enteredAt))}</span></td>
  <td class="num">${escapeHtml(duration)}</td>
  <td>${escapeHtml(stage.detail ?? '')}${stage.error ? `<div class="error mono">${escapeHtml(stage.error)}</div>` : ''}</td>
</tr>`);
  }
  for (const redrive of redrives) {
    stageRows.push(
      `<tr class="redrive"><td colspan="5">${escapeHtml(clock(redrive.at))} · re-driven after a restart (${escapeHtml(redrive.count)})</td></tr>`,
    );
  }
  const instanceRows = timeline.instances
    .map(
      (i) => `<tr>
  <td>${names.has(i.id) ? `${escapeHtml(names.get(i.id))}<br>` : ''}<span class="mono muted">${escapeHtml(i.id)}</span></td>
  <td>${escapeHtml(i.from ?? '')}</td>
  <td>${destinationCell(i)}</td>
  <td>${badge(i.state)}${i.final ? ` <span class="muted">${escapeHtml(i.final)}</span>` : ''}</td>
  <td class="num">${i.seconds === null ? '' : escapeHtml(`${i.seconds} s`)}</td>
  <td class="num">${escapeHtml(clock(i.updatedAt))}</td>
  <td>${escapeHtml(i.reason ?? '')}</td>
</tr>`,
    )
    .join('\n');
  const running = execution.status === 'RUNNING';
  const chart = timelineChart(timeline, {
    start: execution.startDate ?? new Date(now),
    stop: execution.stopDate ?? null,
    now,
    names,
  });
  const problem =
    execution.error || execution.cause
      ? `<p class="error"><strong>${escapeHtml(execution.error ?? '')}</strong> ${escapeHtml(causeText(execution.cause) ?? '')}</p>`
      : '';
  const body = `<p><a href="/executions">← all executions</a></p>
<h1 class="mono">${escapeHtml(execution.name)}</h1>
<div class="summary">
  <div><span>Host</span>${escapeHtml(input.host ?? '')}</div>
  <div><span>Status</span>${badge(execution.status ?? '')}</div>
  <div><span>Started (UTC)</span>${escapeHtml(time(execution.startDate))}</div>
  <div><span>Duration</span>${escapeHtml(durationOf(execution.startDate, execution.stopDate, now))}</div>
  <div><span>Incident</span><span class="mono" style="text-transform:none;font-size:.85rem;color:inherit">${escapeHtml(input.incident ?? '')}</span></div>
  ${execution.redriveCount ? `<div><span>Re-driven</span>${escapeHtml(execution.redriveCount)}×</div>` : ''}
</div>
${problem}
<p class="muted">${escapeHtml(input.cause ?? '')}</p>
${timelineSection(chart)}
<h2>Stages</h2>
<table><thead><tr><th>Stage</th><th>Status</th><th>Entered (UTC)</th><th>Took</th><th>Detail</th></tr></thead>
<tbody>
${stageRows.join('\n')}
</tbody></table>
<h2>Instances (${escapeHtml(timeline.instances.length)})</h2>
${
  timeline.instances.length
    ? `<table><thead><tr><th>Instance</th><th>From</th><th>To</th><th>State</th><th>Time</th><th>Updated (UTC)</th><th>Note</th></tr></thead>
<tbody>
${instanceRows}
</tbody></table>`
    : '<p class="muted">No instance evacuated (yet).</p>'
}
<details><summary>Execution input</summary><pre class="mono">${escapeHtml(JSON.stringify(input, null, 2))}</pre></details>`;
  return layout(execution.name ?? 'execution', body, running ? 2 : null);
}

export function renderNotFound(what: string): string {
  return layout(
    'Not found',
    `<p><a href="/executions">← all executions</a></p><h1>Not found</h1><p>${escapeHtml(what)}</p>`,
    null,
  );
}
