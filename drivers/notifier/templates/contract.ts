// The contract a replaceable email template fulfils. Built-in templates live next to
// this file; an override directory may hold admin.{mjs,js,ts} and tenant.{mjs,js,ts}
// exporting any of these functions, and the rest come from the built-ins.
import type { HtmlHelpers, SafeHtml } from '../html.js';
import type { MessageView } from '../message-view.js';

export interface EmailTemplate {
  subject(view: MessageView): string;
  text(view: MessageView): string;
  /** Interpolate with `h.html` so values are escaped; a plain string is sent as it is. */
  html(view: MessageView, h: HtmlHelpers): SafeHtml | string;
}

export interface EmailTemplates {
  admin: EmailTemplate;
  tenant: EmailTemplate;
}
