// Built-in project message: only this project's instances, in the users' terms.
import { html, type SafeHtml } from '../html.js';
import type { InstanceView, MessageView } from '../message-view.js';
import type { EmailTemplate } from './contract.js';
import {
  bullets,
  COLORS,
  cell,
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

const projectLabel = (v: MessageView) => v.project?.name ?? v.project?.id ?? 'your project';

function subject(v: MessageView): string {
  return oneLine(`${v.subjectPrefix} ${v.title} (project ${projectLabel(v)})`);
}

function text(v: MessageView): string {
  const out: string[] = [];
  if (v.fallbackNote) out.push(`NOTE FOR THE ADMINISTRATORS: ${v.fallbackNote}`, '', '-----', '');
  out.push(`Project: ${projectLabel(v)}`, '', v.title, '', v.headline, '', 'Instances:');
  for (const i of v.instances) out.push(`  - ${i.name} [${i.id}]: ${i.summary}`);
  out.push('', `Failure detected: ${v.startedAt}`, '');
  if (v.nextSteps.length) out.push('What this means for you:', bullets(v.nextSteps), '');
  if (v.notes.length) out.push(bullets(v.notes), '');
  out.push(textFooter(v));
  return `${out.join('\n')}\n`;
}

const instanceRow = (i: InstanceView) =>
  html`<tr>${instanceNameCell(i)}${outcomeCell(i)}<td style="${cell}">${i.summary}</td></tr>`;

function renderHtml(v: MessageView): SafeHtml {
  const box = `margin:0 0 16px;padding:10px 12px;border:1px solid ${COLORS.warn};background:#fff8c5`;
  const fallback = v.fallbackNote
    ? html`<div style="${box}"><strong>Note for the administrators:</strong> ${v.fallbackNote}</div>`
    : html``;
  const project = html`<p style="margin:0 0 4px;color:${COLORS.muted}">Project <strong style="color:#1f2328">${projectLabel(v)}</strong></p>`;
  return page(
    v,
    html`${fallback}${notesBlock(v)}${project}<p style="margin:0 0 12px">${v.headline}</p>
${table([headRow('Instance', 'Outcome', 'Details'), ...v.instances.map(instanceRow)])}
<p style="margin:12px 0 0;color:${COLORS.muted}">Failure detected: ${v.startedAt}</p>
${stepsList(v, 'What this means for you', false)}`,
  );
}

export const tenantTemplate: EmailTemplate = { subject, text, html: renderHtml };
