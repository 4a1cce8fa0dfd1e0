// From an HTTP request to a parsed body, refusing early and precisely: 413 before
// anything is read, 415 for a content type we do not parse, 400 for bytes that are not
// UTF-8 JSON or form data. Parsing never recurses (JSON.parse without a reviver), so a
// deeply nested body costs no stack.
import { parse as parseForm } from 'node:querystring';

/** The transport-neutral request: what API Gateway, a Function URL or the local server give. */
export interface IntakeRequest {
  method: string;
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
  body: string | undefined;
  isBase64Encoded: boolean;
}

export interface HttpRefusal {
  status: 400 | 401 | 405 | 413 | 415 | 422 | 503;
  error: string;
}

const JSON_TYPE = /^application\/([a-z0-9.+-]+\+)?json$/i;
const FORM_TYPE = /^application\/x-www-form-urlencoded$/i;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The 413 for a body over the limit. It names no size: the local server stops reading at
 * the limit, and API Gateway's base64 length gives the size only to within two bytes.
 */
export const bodyTooLarge = (maxBytes: number): HttpRefusal => ({
  status: 413,
  error: `body: more than ${maxBytes} bytes`,
});

/** The request body as bytes (what an HMAC signs), or a 413 when it is over the limit. */
export function rawBody(request: IntakeRequest, maxBytes: number): Buffer | HttpRefusal {
  const body = request.body ?? '';
  // Cheap upper bound first, so an oversized body is never decoded.
  const bound = request.isBase64Encoded ? Math.floor((body.length * 3) / 4) : body.length * 3;
  if (bound > maxBytes) {
    const bytes = request.isBase64Encoded ? bound : Buffer.byteLength(body, 'utf8');
    if (bytes > maxBytes) return bodyTooLarge(maxBytes);
  }
  return request.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
}

type Kind = 'json' | 'form';

function contentKind(header: string | undefined): Kind | HttpRefusal {
  const supported = 'send application/json or application/x-www-form-urlencoded';
  if (!header) return { status: 415, error: `content-type: missing; ${supported}` };
  const [type = '', ...params] = header.split(';').map((part) => part.trim());
  for (const param of params) {
    const [name, value = ''] = param.split('=').map((part) => part.trim().toLowerCase());
    if (name === 'charset' && !['utf-8', 'utf8', 'us-ascii'].includes(value.replace(/"/g, ''))) {
      return {
        status: 415,
        error: `content-type: charset ${value.slice(0, 32)} is not supported; use utf-8`,
      };
    }
  }
  if (JSON_TYPE.test(type)) return 'json';
  if (FORM_TYPE.test(type)) return 'form';
  return {
    status: 415,
    error: `content-type: ${type.slice(0, 64) || '(empty)'} is not supported; ${supported}`,
  };
}

export type ParsedBody = { ok: true; value: unknown; kind: Kind } | { ok: false; refusal: HttpRefusal };

export function parseBody(headers: IntakeRequest['headers'], bytes: Buffer): ParsedBody {
  const kind = contentKind(headers['content-type']);
  if (typeof kind !== 'string') return { ok: false, refusal: kind };
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { ok: false, refusal: { status: 400, error: 'body: not valid UTF-8' } };
  }
  if (text.trim() === '') return { ok: false, refusal: { status: 400, error: 'body: empty' } };
  if (kind === 'json') {
    try {
      return { ok: true, kind, value: JSON.parse(text) };
    } catch (error) {
      const at = /position (\d+)/.exec((error as Error).message)?.[1];
      return {
        ok: false,
        refusal: { status: 400, error: `body: malformed JSON${at ? ` at position ${at}` : ''}` },
      };
    }
  }
  const form = parseForm(text, '&', '=', { maxKeys: 200 });
  const value: Record<string, string> = {};
  for (const [key, field] of Object.entries(form)) {
    if (Array.isArray(field)) {
      return { ok: false, refusal: { status: 422, error: `${key.slice(0, 64)}: given more than once` } };
    }
    value[key] = field ?? '';
  }
  return { ok: true, kind, value };
}
