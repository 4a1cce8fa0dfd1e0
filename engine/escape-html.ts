// Every value the executions page shows comes from executions (their input is anyone's JSON):
// escaped on the way into HTML and SVG alike.
const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export const escapeHtml = (value: unknown) =>
  String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
