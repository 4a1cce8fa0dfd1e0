// Built-in administrator message: everything about one recovery in one place.
import { html, type SafeHtml } from '../html.js';
import type { MessageView } from '../message-view.js';
import type { EmailTemplate } from './contract.js';
import {
  bullets,
  COLORS,
  cell,
  headCell,
  notesBlock,
  oneLine,
  outcomeCell,
  page,
  stepsList,
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
      out.push(
        `  - ${i.name} [${i.id}]${i.projectName || i.projectId ? ` project ${i.projectName ?? i.projectId}` : ''}`,
      );
      out.push(
        `      ${i.outcomeLabel}: ${i.fromHost ?? '?'} -> ${i.toHost ?? '-'}${i.duration ? `, ${i.duration}` : ''}`,
      );
      out.push(`      ${i.summary}`);
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

function renderHtml(v: MessageView): SafeHtml {
  const execution = v.executionUrl
    ? html`<a href="${v.executionUrl}" style="color:#0969da">${v.executionName ?? v.executionUrl}</a>`
    : (v.executionName ?? '-');
  const instances = v.instances.length
    ? html`<h2 style="font-size:16px;margin:20px 0 8px">Instances</h2>
<p style="margin:0 0 8px;color:${COLORS.muted}">${v.counts.selected} selected, ${v.counts.recovered} recovered, ${v.counts.failed} failed, ${v.counts.skipped} skipped</p>
<table style="border-collapse:collapse;width:100%;font-size:13px">
<tr><th style="${headCell}">Instance</th><th style="${headCell}">Project</th><th style="${headCell}">Outcome</th><th style="${headCell}">From → to</th><th style="${headCell}">Time</th><th style="${headCell}">Details</th></tr>
${v.instances.map(
  (
    i,
  ) => html`<tr><td style="${cell}"><strong>${i.name}</strong><br><span style="color:${COLORS.muted};font-size:11px">${i.id}</span></td>
<td style="${cell}">${i.projectName ?? i.projectId ?? '-'}</td>${outcomeCell(i)}
<td style="${cell}white-space:nowrap">${i.fromHost ?? '?'} → ${i.toHost ?? '-'}</td>
<td style="${cell}white-space:nowrap">${i.duration ?? '-'}</td>
<td style="${cell}">${i.reason ?? i.finalStatus ?? ''}</td></tr>`,
)}
</table>`
    : html`<p>No instance needed recovery (${v.counts.skipped} skipped by the selection policy).</p>`;
  const projects = v.projects.length
    ? html`<h2 style="font-size:16px;margin:20px 0 8px">Projects told</h2>
<table style="border-collapse:collapse;width:100%;font-size:13px">
<tr><th style="${headCell}">Project</th><th style="${headCell}">Instances</th><th style="${headCell}">Message sent to</th></tr>
${v.projects.map(
  (
    p,
  ) => html`<tr><td style="${cell}">${p.projectName ?? p.projectId}</td><td style="${cell}">${p.instances}</td>
<td style="${cell}${p.source === 'admins' || p.source === 'not-sent' ? `color:${COLORS.warn}` : ''}">${deliveryText(p)}</td></tr>`,
)}
</table>`
    : html``;
  const timeline = v.timeline.length
    ? html`<h2 style="font-size:16px;margin:20px 0 8px">Timeline</h2>
<table style="border-collapse:collapse;width:100%;font-size:13px">
${v.timeline.map(
  (t) =>
    html`<tr><td style="${cell}white-space:nowrap;color:${COLORS.muted}">${t.at}</td><td style="${cell}font-weight:600">${t.stage}</td><td style="${cell}">${t.detail}</td></tr>`,
)}
</table>`
    : html``;
  return page(
    v,
    html`${notesBlock(v)}<p style="margin:0 0 12px">${v.headline}</p>
${stepsList(v)}
<h2 style="font-size:16px;margin:20px 0 8px">Summary</h2>
<table style="border-collapse:collapse;width:100%;font-size:13px">
${summaryRow('Host', v.host ?? '-')}
${summaryRow('Cause', v.cause ?? '-')}
${summaryRow('Fencing', v.fence ? html`<span style="color:${v.fence.verified ? COLORS.ok : COLORS.bad};font-weight:600">${v.fence.verified ? 'power verified off' : 'power NOT verified off'}</span> via ${v.fence.method} (${v.fence.controller})<br>${v.fence.detail}` : 'not attempted')}
${summaryRow('Started', v.startedAt)}
${summaryRow('Finished', `${v.finishedAt} (${v.duration})`)}
${summaryRow('Incident', incidentText(v))}
${summaryRow('Execution', execution)}
</table>
${instances}${projects}${timeline}`,
  );
}

export const adminTemplate: EmailTemplate = { subject, text, html: renderHtml };
