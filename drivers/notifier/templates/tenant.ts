// Built-in project message: only this project's instances, in the users' terms.
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
  textFooter,
} from './layout.js';

const projectLabel = (v: MessageView) => v.project?.name ?? v.project?.id ?? 'your project';

function subject(v: MessageView): string {
  return oneLine(`${v.subjectPrefix} ${v.title} (project ${projectLabel(v)})`);
}

function text(v: MessageView): string {
  const out: string[] = [];
  if (v.fallbackNote) out.push(`NOTE FOR THE ADMINISTRATORS: ${v.fallbackNote}`, '', '-----', '');
  out.push(`Project: ${projectLabel(v)}`, '', v.title, '', v.headline, '');
  out.push('Instances:');
  for (const i of v.instances) out.push(`  - ${i.name} [${i.id}]: ${i.summary}`);
  out.push('', `Time of the failure: ${v.startedAt}`, '');
  if (v.nextSteps.length) out.push('What this means for you:', bullets(v.nextSteps), '');
  if (v.notes.length) out.push(bullets(v.notes), '');
  out.push(textFooter(v));
  return `${out.join('\n')}\n`;
}

function renderHtml(v: MessageView): SafeHtml {
  const fallback = v.fallbackNote
    ? html`<div style="margin:0 0 16px;padding:10px 12px;border:1px solid ${COLORS.warn};background:#fff8c5"><strong>Note for the administrators:</strong> ${v.fallbackNote}</div>`
    : html``;
  return page(
    v,
    html`${fallback}${notesBlock(v)}<p style="margin:0 0 4px;color:${COLORS.muted}">Project <strong style="color:#1f2328">${projectLabel(v)}</strong></p>
<p style="margin:0 0 12px">${v.headline}</p>
<table style="border-collapse:collapse;width:100%;font-size:13px">
<tr><th style="${headCell}">Instance</th><th style="${headCell}">Outcome</th><th style="${headCell}">Details</th></tr>
${v.instances.map(
  (i) =>
    html`<tr><td style="${cell}"><strong>${i.name}</strong><br><span style="color:${COLORS.muted};font-size:11px">${i.id}</span></td>${outcomeCell(i)}<td style="${cell}">${i.summary}</td></tr>`,
)}
</table>
<p style="margin:12px 0 0;color:${COLORS.muted}">Time of the failure: ${v.startedAt}</p>
${v.nextSteps.length ? html`<h2 style="font-size:16px;margin:20px 0 8px">What this means for you</h2><ul style="margin:0;padding-left:22px">${v.nextSteps.map((s) => html`<li style="margin:0 0 6px">${s}</li>`)}</ul>` : html``}`,
  );
}

export const tenantTemplate: EmailTemplate = { subject, text, html: renderHtml };
