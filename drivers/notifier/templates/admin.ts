// Built-in administrator message: everything about one recovery in one place.
import { html, type SafeHtml } from '../html.js';
import type { InstanceView, MessageView, ProjectDelivery } from '../message-view.js';
import type { EmailTemplate } from './contract.js';
import {
  bullets,
  COLORS,
  cell,
  h2,
  headCell,
  headRow,
  instanceNameCell,
  notesBlock,
  oneLine,
  outcomeCell,
  page,
  stepsList,
  table,
  textFooter,
} from './layout.js';

function subject(v: MessageView): string {
  return oneLine(`${v.subjectPrefix} ${v.title}`);
}

const incidentText = (v: MessageView) =>
  v.reference === v.incident ? v.incident : `${v.incident} (projects were given reference ${v.reference})`;

function deliveryText(p: MessageView['projects'][number]): string {
  const who =
    p.source === 'keystone'
      ? `${p.recipients} project user${p.recipients === 1 ? '' : 's'}`
      : p.source === 'override'
        ? `${p.recipients} configured address${p.recipients === 1 ? '' : 'es'}`
        : p.source === 'admins'
          ? 'no project address: sent to the administrators instead'
          : 'not sent';
  return `${who}${p.note ? ` (${p.note})` : ''}`;
}

function text(v: MessageView): string {
  const out: string[] = [v.title, '', v.headline, ''];
  if (v.notes.length) out.push('NOTE:', bullets(v.notes), '');
  if (v.nextSteps.length)
    out.push(
      'What to do next:',
      bullets(v.nextSteps, (i) => `${i + 1}.`),
      '',
    );
  out.push(
    `Host:       ${v.host ?? '-'}`,
    `Cause:      ${v.cause ?? '-'}`,
    `Fencing:    ${v.fence ? v.fence.summary : 'not attempted'}`,
    `Started:    ${v.startedAt}`,
    `Finished:   ${v.finishedAt} (${v.duration})`,
    `Incident:   ${incidentText(v)}`,
    `Execution:  ${v.executionUrl ?? v.executionName ?? '-'}`,
    '',
  );
  if (v.instances.length) {
    out.push(
      `Instances (${v.counts.selected} selected, ${v.counts.recovered} recovered, ${v.counts.failed} failed, ${v.counts.skipped} skipped):`,
    );
    for (const i of v.instances) {
      const project = i.projectName ?? i.projectId;
      out.push(`  - ${i.name} [${i.id}]${project ? `, project ${project}` : ''}`);
      out.push(`      ${i.outcomeLabel}: ${i.detail}`);
    }
    out.push('');
  } else {
    out.push(`Instances: none (${v.counts.skipped} skipped by the selection policy)`, '');
  }
  if (v.projects.length) {
    out.push('Projects told:');
    for (const p of v.projects)
      out.push(
        `  - ${p.projectName ?? p.projectId} (${p.instances} instance${p.instances === 1 ? '' : 's'}): ${deliveryText(p)}`,
      );
    out.push('');
  }
  if (v.timeline.length) {
    out.push('Timeline:');
    for (const t of v.timeline) out.push(`  ${t.at}  ${t.stage}: ${t.detail}`);
    out.push('');
  }
  out.push(textFooter(v));
  return `${out.join('\n')}\n`;
}

function summaryRow(label: string, value: SafeHtml | string): SafeHtml {
  return html`<tr><th style="${headCell}width:110px">${label}</th><td style="${cell}">${value}</td></tr>`;
}

function instanceRow(i: InstanceView): SafeHtml {
  return html`<tr>${instanceNameCell(i)}<td style="${cell}white-space:nowrap">${i.projectName ?? i.projectId ?? '-'}</td>
${outcomeCell(i)}<td style="${cell}">${i.detail}</td></tr>`;
}

function projectRow(p: ProjectDelivery): SafeHtml {
  const warn = p.source === 'admins' || p.source === 'not-sent' ? `color:${COLORS.warn}` : '';
  return html`<tr><td style="${cell}white-space:nowrap">${p.projectName ?? p.projectId}</td><td style="${cell}">${p.instances}</td>
<td style="${cell}${warn}">${deliveryText(p)}</td></tr>`;
}

function timelineRow(t: MessageView['timeline'][number]): SafeHtml {
  return html`<tr><td style="${cell}white-space:nowrap;color:${COLORS.muted}">${t.at}</td>
<td style="${cell}font-weight:600">${t.stage}</td><td style="${cell}">${t.detail}</td></tr>`;
}

function fenceCell(v: MessageView): SafeHtml | string {
  if (!v.fence) return 'not attempted';
  const color = v.fence.verified ? COLORS.ok : COLORS.bad;
  const badge = html`<span style="color:${color};font-weight:600">${v.fence.verified ? 'Verified off' : 'NOT verified off'}</span>`;
  return html`${badge} · ${v.fence.method} (${v.fence.controller})<br>${v.fence.detail}`;
}

function renderHtml(v: MessageView): SafeHtml {
  const execution = v.executionUrl
    ? html`<a href="${v.executionUrl}" style="color:#0969da">${v.executionName ?? v.executionUrl}</a>`
    : (v.executionName ?? '-');
  const counts = `${v.counts.selected} selected, ${v.counts.recovered} recovered, ${v.counts.failed} failed, ${v.counts.skipped} skipped`;
  const instances = v.instances.length
    ? html`${h2('Instances')}<p style="margin:0 0 8px;color:${COLORS.muted}">${counts}</p>
${table([headRow('Instance', 'Project', 'Outcome', 'Details'), ...v.instances.map(instanceRow)])}`
    : html`<p>No instance needed recovery (${v.counts.skipped} skipped by the selection policy).</p>`;
  const projects = v.projects.length
    ? html`${h2('Projects told')}${table([headRow('Project', 'Instances', 'Message sent to'), ...v.projects.map(projectRow)])}`
    : html``;
  const timeline = v.timeline.length ? html`${h2('Timeline')}${table(v.timeline.map(timelineRow))}` : html``;
  const summary = table([
    summaryRow('Host', v.host ?? '-'),
    summaryRow('Cause', v.cause ?? '-'),
    summaryRow('Fencing', fenceCell(v)),
    summaryRow('Started', v.startedAt),
    summaryRow('Finished', `${v.finishedAt} (${v.duration})`),
    summaryRow('Incident', incidentText(v)),
    summaryRow('Execution', execution),
  ]);
  return page(
    v,
    html`${notesBlock(v)}<p style="margin:0 0 12px">${v.headline}</p>
${stepsList(v, 'What to do next', true)}${h2('Summary')}${summary}${instances}${projects}${timeline}`,
  );
}

export const adminTemplate: EmailTemplate = { subject, text, html: renderHtml };
