// Escaping by construction: everything interpolated into an `html` template is escaped
// unless it is itself the result of `html`, so a template cannot forget to escape
// an instance name, a cause or a reason taken from the cloud.

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (ch) => ENTITIES[ch] as string);
}

/** Markup that is already safe: produced by `html`, never from raw input. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Part = SafeHtml | string | number | boolean | null | undefined | readonly Part[];

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return '';
  if (part instanceof SafeHtml) return part.value;
  if (Array.isArray(part)) return part.map(render).join('');
  return escapeHtml(part);
}

/** Tagged template: `html\`<td>${name}</td>\`` escapes `name`; arrays of fragments are joined. */
export function html(strings: TemplateStringsArray, ...values: Part[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

/** A URL for an href: only http(s) and mailto pass, anything else becomes '#'. */
export function safeHref(url: string | null | undefined): string {
  if (!url) return '#';
  return /^(https?:|mailto:)/i.test(url.trim()) ? url.trim() : '#';
}

export interface HtmlHelpers {
  html: typeof html;
  escapeHtml: typeof escapeHtml;
  safeHref: typeof safeHref;
}

export const htmlHelpers: HtmlHelpers = { html, escapeHtml, safeHref };
