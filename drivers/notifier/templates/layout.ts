// Pieces shared by the built-in templates: an HTML shell with inline styles (mail
// clients drop <style> and external CSS) and plain-text helpers.
import { html, type SafeHtml } from '../html.js';
import type { InstanceView, MessageView } from '../message-view.js';

export const COLORS = { ok: '#1a7f37', bad: '#c62828', warn: '#9a6700', muted: '#57606a', line: '#d0d7de' };

export function bannerColor(view: MessageView): string {
  if (view.actionNeeded) return COLORS.bad;
  return view.kind === 'recovery' ? COLORS.ok : COLORS.warn;
}

export const cell = 'padding:6px 8px;border-bottom:1px solid #d0d7de;vertical-align:top;text-align:left;';
export const headCell = `${cell}background:#f6f8fa;font-weight:600;`;

export const h2 = (title: string) => html`<h2 style="font-size:16px;margin:20px 0 8px">${title}</h2>`;

export const table = (rows: SafeHtml | SafeHtml[]) =>
  html`<table style="border-collapse:collapse;width:100%;font-size:13px">${rows}</table>`;

export const headRow = (...titles: string[]) =>
  html`<tr>${titles.map((t) => html`<th style="${headCell}">${t}</th>`)}</tr>`;

/** Name in bold, id below it in small monospace (whole, for copy and paste into the CLI). */
export const instanceNameCell = (i: InstanceView) =>
  html`<td style="${cell}"><strong>${i.name}</strong><br><span style="color:${COLORS.muted};font-size:11px;font-family:monospace;white-space:nowrap">${i.id}</span></td>`;

export function outcomeCell(i: InstanceView): SafeHtml {
  const color = !i.ok ? COLORS.bad : i.outcome === 'gone' ? COLORS.muted : COLORS.ok;
  return html`<td style="${cell}color:${color};font-weight:600;white-space:nowrap">${i.outcomeLabel}</td>`;
}

/** Numbered for admins (an order to follow), bulleted for tenants. */
export function stepsList(view: MessageView, title: string, ordered: boolean): SafeHtml {
  if (!view.nextSteps.length) return html``;
  const items = view.nextSteps.map((s) => html`<li style="margin:0 0 6px">${s}</li>`);
  const list = ordered
    ? html`<ol style="margin:0;padding-left:22px">${items}</ol>`
    : html`<ul style="margin:0;padding-left:22px">${items}</ul>`;
  return html`${h2(title)}${list}`;
}

export function notesBlock(view: MessageView): SafeHtml {
  if (!view.notes.length) return html``;
  return html`<div style="margin:16px 0;padding:10px 12px;border:1px solid ${COLORS.warn};background:#fff8c5">${view.notes.map(
    (n) => html`<p style="margin:0 0 4px">${n}</p>`,
  )}</div>`;
}

export function page(view: MessageView, body: SafeHtml): SafeHtml {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${view.title}</title></head>
<body style="margin:0;padding:0;background:#f6f8fa">
<div style="max-width:720px;margin:0 auto;padding:16px;font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;font-size:14px;line-height:1.45;color:#1f2328">
<div style="background:#ffffff;border:1px solid ${COLORS.line};border-radius:6px;overflow:hidden">
<div style="background:${bannerColor(view)};color:#ffffff;padding:14px 16px">
<div style="font-size:12px;text-transform:uppercase;letter-spacing:.05em;opacity:.9">${view.cloudName} · ${view.kindLabel}</div>
<div style="font-size:18px;font-weight:600;margin-top:4px">${view.title}</div>
</div>
<div style="padding:16px">${body}</div>
</div>
<p style="color:${COLORS.muted};font-size:12px;margin:12px 4px">Sent automatically by freezer-dr for ${view.cloudName}. Incident ${view.incident}.</p>
</div></body></html>`;
}

/** "  - line" bullets, wrapped lines indented under their bullet. */
export function bullets(lines: string[], marker: (i: number) => string = () => '-'): string {
  return lines.map((line, i) => `  ${marker(i)} ${line}`).join('\n');
}

export function textFooter(view: MessageView): string {
  return `--\nSent automatically by freezer-dr for ${view.cloudName}. Incident ${view.incident}.`;
}

/** One line per header: no newline from a value may reach a Subject header. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
