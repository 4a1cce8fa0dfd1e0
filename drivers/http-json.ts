// JSON over Node's own fetch (keep-alive pooling, no proxy from the environment, no
// redirects followed): what the OpenStack client and the chat notifiers need, without an
// HTTP library in every Lambda bundle.

export interface HttpAnswer<T = unknown> {
  status: number;
  /** Parsed JSON when the body is JSON, else the text. */
  data: T;
  headers: Headers;
}

/** No answer at all (`status` null, `code` like ECONNREFUSED or ETIMEDOUT), or one outside 2xx. */
export class HttpFailure extends Error {
  override readonly name = 'HttpFailure';
  constructor(
    message: string,
    readonly status: number | null,
    readonly code: string | null,
    readonly data: unknown = null,
  ) {
    super(message);
  }
}

/** The system error behind a failed fetch: ECONNREFUSED, ENOTFOUND, ETIMEDOUT, ... */
function failureCode(error: unknown): string {
  const e = error as Error & { cause?: { code?: string; name?: string } };
  if (e.name === 'TimeoutError' || e.cause?.name === 'TimeoutError') return 'ETIMEDOUT';
  if (e.name === 'AbortError') return 'EABORT';
  return e.cause?.code ?? e.cause?.name ?? e.name ?? 'error';
}

const parse = (text: string): unknown => {
  if (!/^\s*[[{]/.test(text)) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

export async function requestJson<T = unknown>(
  url: string,
  options: {
    method?: string;
    /** Sent as JSON. */
    body?: unknown;
    headers?: Record<string, string>;
    timeoutMs: number;
    signal?: AbortSignal | undefined;
    /** Answers outside 2xx are returned instead of thrown. */
    anyStatus?: boolean;
  },
): Promise<HttpAnswer<T>> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method: options.method ?? 'GET',
      headers: {
        ...(options.body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...options.headers,
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      redirect: 'manual',
      signal,
    });
    text = await response.text();
  } catch (error) {
    const code = failureCode(error);
    throw new HttpFailure(`${code}: ${(error as Error).message}`, null, code);
  }
  const data = parse(text) as T;
  if (!options.anyStatus && (response.status < 200 || response.status >= 300)) {
    throw new HttpFailure(`HTTP ${response.status}`, response.status, null, data);
  }
  return { status: response.status, data, headers: response.headers };
}
