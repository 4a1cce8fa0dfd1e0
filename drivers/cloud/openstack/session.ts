// Keystone v3 session: one token reused until shortly before it expires, re-issued once
// on a 401, endpoints from its catalog. Errors carry method, path, status and the
// service's own message, never request bodies or headers (they hold secrets).

import { createHash } from 'node:crypto';
import { CLOUD_AUTH, CLOUD_REJECTED, CLOUD_TRANSIENT, CloudError } from '../../../core/errors.js';
import { type HttpAnswer, HttpFailure, requestJson } from '../../http-json.js';
import type { Connection } from './credentials.js';
import { type SharedValues, TokenShare } from './token-share.js';

interface CatalogEndpoint {
  interface: string;
  region?: string | null;
  region_id?: string | null;
  url: string;
}
interface CatalogEntry {
  type: string;
  endpoints: CatalogEndpoint[];
}
interface Token {
  value: string;
  expiresAt: number;
  catalog: CatalogEntry[];
}

export interface RequestOptions {
  method?: string;
  /** Request body, sent as JSON. */
  data?: unknown;
  headers?: Record<string, string>;
  /** Service type from the catalog (compute, placement, identity, ...). */
  service: string;
  /** Path relative to the endpoint, or an absolute URL on the same endpoint. */
  path: string;
  microversion?: string;
  /** This call's limit instead of the session's. */
  timeoutMs?: number;
}

/** Refresh this long before expiry so a long recovery never uses a token that dies mid-call. */
const EXPIRY_MARGIN_MS = 120_000;

function serviceMessage(data: unknown): string | null {
  if (!data || typeof data !== 'object') return typeof data === 'string' && data.length < 500 ? data : null;
  for (const value of Object.values(data as Record<string, unknown>)) {
    if (value && typeof value === 'object' && 'message' in value)
      return String((value as { message: unknown }).message);
  }
  if ('error' in data) {
    const err = (data as { error: unknown }).error;
    if (err && typeof err === 'object' && 'message' in err)
      return String((err as { message: unknown }).message);
  }
  if ('message' in data) return String((data as { message: unknown }).message);
  return null;
}

export function classifyHttpError(error: unknown, what: string): CloudError {
  if (error instanceof HttpFailure) {
    const status = error.status;
    const message = serviceMessage(error.data);
    const text = `${what} failed${status ? ` with HTTP ${status}` : ` (${error.code ?? 'no response'})`}${message ? `: ${message}` : ''}`;
    if (status === 401) return new CloudError(CLOUD_AUTH, text, status);
    if (status === null || status >= 500 || status === 408 || status === 429) {
      return new CloudError(CLOUD_TRANSIENT, text, status);
    }
    return new CloudError(CLOUD_REJECTED, text, status);
  }
  if (error instanceof CloudError) return error;
  return new CloudError(
    CLOUD_TRANSIENT,
    `${what} failed: ${(error as Error)?.message ?? String(error)}`,
    null,
  );
}

export class KeystoneSession {
  private token: Token | null = null;
  private pending: Promise<Token> | null = null;
  private readonly timeoutMs: number;
  /** Tokens issued so far: lets tests and benchmarks prove tokens are reused. */
  tokensIssued = 0;
  /** Per service type: its clock minus ours, from the Date header of its latest answer. */
  private readonly clockOffsets = new Map<string, number>();
  /** Where other processes' tokens are kept (sealed), when the deployment shares them. */
  private share: TokenShare | null = null;

  /** Take a valid token others left in `values` before asking Keystone, and leave ours there. */
  shareTokensThrough(values: SharedValues): void {
    this.share = TokenShare.for(values, this.connection);
  }

  constructor(
    readonly connection: Connection,
    options: { timeoutMs?: number } = {},
  ) {
    // fetch keeps connections alive: a recovery makes thousands of small calls, and a TCP
    // (and TLS) handshake for each would cost more than the calls themselves.
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  private authBody(): unknown {
    const { auth, authType } = this.connection;
    if (authType === 'v3applicationcredential') {
      return {
        auth: {
          identity: {
            methods: ['application_credential'],
            application_credential: {
              id: auth.application_credential_id,
              secret: auth.application_credential_secret,
            },
          },
        },
      };
    }
    const userDomain = auth.user_domain_id
      ? { id: auth.user_domain_id }
      : { name: auth.user_domain_name ?? 'Default' };
    const user = auth.user_id
      ? { id: auth.user_id, password: auth.password }
      : { name: auth.username, domain: userDomain, password: auth.password };
    const projectDomain = auth.project_domain_id
      ? { id: auth.project_domain_id }
      : { name: auth.project_domain_name ?? auth.user_domain_name ?? 'Default' };
    const project = auth.project_id
      ? { id: auth.project_id }
      : auth.project_name
        ? { name: auth.project_name, domain: projectDomain }
        : null;
    return {
      auth: {
        identity: { methods: ['password'], password: { user } },
        ...(project ? { scope: { project } } : {}),
      },
    };
  }

  private async issue(): Promise<Token> {
    const url = `${this.connection.auth.auth_url.replace(/\/+$/, '')}/auth/tokens`;
    try {
      const response = await requestJson(url, {
        method: 'POST',
        body: this.authBody(),
        timeoutMs: this.timeoutMs,
      });
      const value = response.headers.get('x-subject-token');
      const body = response.data as { token?: { expires_at?: string; catalog?: CatalogEntry[] } };
      if (typeof value !== 'string' || !body.token) {
        throw new CloudError(CLOUD_AUTH, 'Keystone answered without a token', response.status);
      }
      this.tokensIssued += 1;
      return {
        value,
        expiresAt: body.token.expires_at ? Date.parse(body.token.expires_at) : Date.now() + 3_600_000,
        catalog: body.token.catalog ?? [],
      };
    } catch (error) {
      const classified = classifyHttpError(error, 'Keystone authentication');
      if (classified.httpStatus === 401) {
        throw new CloudError(CLOUD_AUTH, 'Keystone rejected the credentials (HTTP 401)', 401);
      }
      throw classified;
    }
  }

  /** A valid token, shared by concurrent callers. */
  async getToken(forceNew = false): Promise<Token> {
    if (!forceNew && this.token && this.token.expiresAt - Date.now() > EXPIRY_MARGIN_MS) return this.token;
    if (!this.pending) {
      this.pending = this.obtain(forceNew)
        .then((token) => {
          this.token = token;
          return token;
        })
        .finally(() => {
          this.pending = null;
        });
    }
    return this.pending;
  }

  /** A shared token still valid (unless this one was refused), else a new one, shared in turn. */
  private async obtain(forceNew: boolean): Promise<Token> {
    const share = this.share;
    if (share && !forceNew) {
      const shared = await share.read();
      if (shared && shared.value !== this.token?.value && shared.expiresAt - Date.now() > EXPIRY_MARGIN_MS) {
        return {
          value: shared.value,
          expiresAt: shared.expiresAt,
          catalog: shared.catalog as CatalogEntry[],
        };
      }
    }
    const token = await this.issue();
    await share?.write(token, token.expiresAt - Date.now() - EXPIRY_MARGIN_MS);
    return token;
  }

  async endpoint(service: string): Promise<string> {
    const token = await this.getToken();
    const entry = token.catalog.find((item) => item.type === service);
    const wanted = this.connection.interface;
    const region = this.connection.region;
    const endpoint = entry?.endpoints.find(
      (ep) => ep.interface === wanted && (!region || ep.region === region || ep.region_id === region),
    );
    if (!endpoint) {
      throw new CloudError(
        CLOUD_REJECTED,
        `no ${wanted} ${service} endpoint${region ? ` in region ${region}` : ''} in the Keystone catalog`,
        null,
      );
    }
    return endpoint.url.replace(/\/+$/, '');
  }

  /** Sends a request with the current token; on 401 re-authenticates once and retries. */
  async request<T>(options: RequestOptions): Promise<HttpAnswer<T>> {
    const { service, path, microversion, method = 'GET', data, headers } = options;
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const base = await this.endpoint(service);
    const url = path.startsWith('http') ? path : `${base}${path.startsWith('/') ? '' : '/'}${path}`;
    const what = `${method.toUpperCase()} ${service} ${new URL(url).pathname}`;
    const send = async (token: Token) =>
      requestJson<T>(url, {
        method,
        body: data,
        timeoutMs,
        headers: {
          ...headers,
          'X-Auth-Token': token.value,
          Accept: 'application/json',
          ...(microversion ? { 'OpenStack-API-Version': `${service} ${microversion}` } : {}),
          ...(microversion && service === 'compute' ? { 'X-OpenStack-Nova-API-Version': microversion } : {}),
        },
      });
    let answer: HttpAnswer<T>;
    try {
      answer = await send(await this.getToken());
    } catch (error) {
      if (!(error instanceof HttpFailure && error.status === 401)) throw classifyHttpError(error, what);
      try {
        answer = await send(await this.getToken(true));
      } catch (retryError) {
        throw classifyHttpError(retryError, what);
      }
    }
    this.noteClock(service, answer.headers.get('date'));
    return answer;
  }

  private noteClock(service: string, date: string | null): void {
    const at = date ? Date.parse(date) : Number.NaN;
    // The header has whole seconds: the service's time was somewhere in [at, at + 1 s).
    if (Number.isFinite(at)) this.clockOffsets.set(service, at + 500 - Date.now());
  }

  /**
   * The service's time now, by the Date header of its latest answer (to about half a
   * second), or null when it sends none (uwsgi without a front proxy does not).
   */
  serviceNow(service: string): number | null {
    const offset = this.clockOffsets.get(service);
    if (offset === undefined) return null;
    // Within the header's one-second resolution the two clocks agree: keep ours, it is finer.
    return Date.now() + (Math.abs(offset) > 1000 ? offset : 0);
  }
}

const sessions = new Map<string, KeystoneSession>();

/**
 * One Keystone session, so one token, per set of credentials in this process: the cloud
 * driver, the intake, every step and the e-mail notifier's Keystone lookups share it (on a
 * busy Keystone each new token also costs a validation in every API worker that sees it).
 * The key is a hash: the credentials are never kept twice.
 */
export function sharedSession(connection: Connection, options: { timeoutMs?: number } = {}): KeystoneSession {
  const key = createHash('sha256')
    .update(JSON.stringify([connection.auth, connection.authType, connection.region, connection.interface]))
    .digest('hex');
  let session = sessions.get(key);
  if (!session) {
    session = new KeystoneSession(connection, options);
    sessions.set(key, session);
  }
  return session;
}
