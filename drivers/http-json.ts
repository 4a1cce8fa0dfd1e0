// JSON over HTTP with axios (the project's HTTP client): keep-alive pooling, no proxy
// from the environment, no redirects followed. What the OpenStack client and the chat
// notifiers need; answers outside 2xx become HttpFailure unless asked for.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import axios, { isAxiosError } from 'axios';

export interface HttpAnswer<T = unknown> {
  status: number;
  /** Parsed JSON when the body is JSON, else the text. */
  data: T;
  headers: { get(name: string): string | null };
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

// Keep-alive: a recovery makes thousands of small calls; a TCP (and TLS) handshake for
// each would cost more than the calls themselves.
const client = axios.create({
  maxRedirects: 0,
  proxy: false,
  responseType: 'text',
  // The body is parsed below, the same way whatever the content type says.
  transformResponse: [(data: unknown) => data],
  validateStatus: () => true,
  httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 64 }),
  httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 64 }),
});

/** The system error behind a failed request: ECONNREFUSED, ENOTFOUND, ETIMEDOUT, ... */
function failureCode(error: unknown): string {
  if (isAxiosError(error)) {
    if (error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT') return 'ETIMEDOUT';
    if (error.code === 'ERR_CANCELED') return 'EABORT';
    return error.code ?? 'error';
  }
  return (error as Error)?.name ?? 'error';
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
  let response: Awaited<ReturnType<typeof client.request<string>>>;
  try {
    response = await client.request<string>({
      url,
      method: options.method ?? 'GET',
      headers: {
        ...(options.body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...options.headers,
      },
      ...(options.body === undefined ? {} : { data: JSON.stringify(options.body) }),
      timeout: options.timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    const code = failureCode(error);
    throw new HttpFailure(`${code}: ${(error as Error).message}`, null, code);
  }
  const data = parse(typeof response.data === 'string' ? response.data : String(response.data ?? '')) as T;
  if (!options.anyStatus && (response.status < 200 || response.status >= 300)) {
    throw new HttpFailure(`HTTP ${response.status}`, response.status, null, data);
  }
  const headers = response.headers;
  return {
    status: response.status,
    data,
    headers: {
      get: (name) => {
        const value = headers[name.toLowerCase()];
        return value === undefined || value === null ? null : String(value);
      },
    },
  };
}
