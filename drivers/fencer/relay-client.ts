// Signed calls to the bastion relay (infra/relay). The HMAC key is given by the fencer
// (read through core/secrets.ts) and never logged; TLS is verified against caFile when the
// relay uses its own CA. An answer counts only when the relay's MAC over it and over this
// request's nonce verifies: anything else on the path (a fake relay, a replayed answer) can
// make a call fail, never make it say "off".
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import * as z from '../../core/zod.js';
import {
  CONTROLLER_KINDS,
  FAILURE_CLASSES,
  HEADER,
  type HostPowerAnswer,
  type InventoryListing,
  isLoopback,
  RELAY_ACTIONS,
  signRequest,
  verifyAnswer,
} from '../../infra/relay/protocol.js';

const answerSchema = z.object({
  host: z.string(),
  kind: z.enum(CONTROLLER_KINDS),
  controller: z.string(),
  action: z.enum(RELAY_ACTIONS),
  state: z.nullable(z.enum(['on', 'off', 'unknown'])),
  error: z.nullable(z.object({ class: z.enum(FAILURE_CLASSES), message: z.string() })),
  ms: z.number(),
});
const inventoryAnswerSchema = z.object({ hosts: z.array(answerSchema) });
const listingSchema = z.object({
  hosts: z.array(z.object({ host: z.string(), kind: z.enum(CONTROLLER_KINDS), controller: z.string() })),
});

/** The drill's answer for a large inventory is a few hundred KB; nothing the relay sends comes near this. */
const MAX_ANSWER_BYTES = 8 * 1024 * 1024;

export interface RelayClientOptions {
  url: string;
  keyId: string;
  key: Buffer;
  /** PEM CA bundle that signed the relay's certificate. */
  caFile?: string | undefined;
  timeoutMs: number;
  /** http:// to a relay off loopback; answers stay MACed, but anyone on the path reads them. */
  allowPlainHttp?: boolean | undefined;
}

/** Why this relay URL may not be used, or null: plain HTTP only on loopback unless allowed in so many words. */
export function plainHttpRefusal(url: string, allowPlainHttp = false): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null; // not a URL at all: the schema's url check says so
  }
  if (parsed.protocol !== 'http:' || allowPlainHttp || isLoopback(parsed.hostname)) return null;
  return `refusing plain http:// to the relay at ${parsed.host}: use https://, or set allowPlainHttp: true`;
}

/** The relay itself failed or refused (as opposed to a BMC failing behind it). */
export class RelayCallError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly reason: string,
  ) {
    super(message);
    this.name = 'RelayCallError';
  }
}

export class RelayClient {
  readonly origin: string;
  private readonly base: URL;
  private readonly ca: Buffer | undefined;

  constructor(private readonly options: RelayClientOptions) {
    const refusal = plainHttpRefusal(options.url, options.allowPlainHttp);
    if (refusal) throw new RelayCallError(refusal, null, 'plain-http');
    this.base = new URL(options.url);
    this.origin = this.base.host;
    this.ca = options.caFile ? readFileSync(options.caFile) : undefined;
  }

  async hostCall(method: 'GET' | 'POST', path: string): Promise<HostPowerAnswer> {
    const { status, json } = await this.send(method, path);
    const parsed = answerSchema.safeParse(json);
    // 200 and 502 both carry an answer; 502 means the BMC behind the relay failed.
    if ((status === 200 || status === 502) && parsed.success) return parsed.data;
    throw this.refusal(status, json, `${method} ${path}`);
  }

  async inventoryStatus(): Promise<HostPowerAnswer[]> {
    const { status, json } = await this.send('GET', '/v1/power');
    const parsed = inventoryAnswerSchema.safeParse(json);
    if (status === 200 && parsed.success) return parsed.data.hosts;
    throw this.refusal(status, json, 'GET /v1/power');
  }

  /** The relay's inventory (host, kind, controller) without any BMC call. */
  async listing(timeoutMs = this.options.timeoutMs): Promise<InventoryListing['hosts']> {
    const { status, json } = await this.send('GET', '/v1/hosts', timeoutMs);
    const parsed = listingSchema.safeParse(json);
    if (status === 200 && parsed.success) return parsed.data.hosts;
    throw this.refusal(status, json, 'GET /v1/hosts');
  }

  private refusal(status: number, json: unknown, what: string): RelayCallError {
    const body = (json ?? {}) as { error?: unknown; detail?: unknown };
    const reason = typeof body.error === 'string' ? body.error : 'unexpected-answer';
    const detail = typeof body.detail === 'string' ? ` (${body.detail})` : '';
    const hint =
      status === 401
        ? ' (check the relay key id/key and the clocks)'
        : reason === 'action-not-allowed'
          ? ' (relay.yaml grants keys status and off only; on and cycle are for the restore key)'
          : '';
    return new RelayCallError(
      `relay ${this.origin} refused ${what}: HTTP ${status} ${reason}${detail}${hint}`,
      status,
      reason,
    );
  }

  private send(
    method: 'GET' | 'POST',
    path: string,
    timeoutMs = this.options.timeoutMs,
  ): Promise<{ status: number; json: unknown }> {
    const body = method === 'POST' ? '{}' : '';
    const url = new URL(path, this.base);
    const signedPath = `${url.pathname}${url.search}`;
    const signed = signRequest(
      { id: this.options.keyId, secret: this.options.key },
      method,
      signedPath,
      body,
    );
    const headers: Record<string, string | number> = {
      accept: 'application/json',
      ...signed,
      ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}),
    };
    const secure = url.protocol === 'https:';
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        outcome();
      };
      const fail = (error: RelayCallError) =>
        settle(() => {
          req.destroy();
          reject(error);
        });
      const req = (secure ? https : http).request(
        url,
        { method, headers, ...(secure && this.ca ? { ca: this.ca } : {}) },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_ANSWER_BYTES) {
              fail(
                new RelayCallError(
                  `relay ${this.origin}: the answer is larger than ${MAX_ANSWER_BYTES} bytes; not read further`,
                  res.statusCode ?? null,
                  'answer-too-large',
                ),
              );
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () => {
            const raw = Buffer.concat(chunks);
            const status = res.statusCode ?? 0;
            const signature = res.headers[HEADER.answerSignature];
            const authentic = verifyAnswer(
              this.options.key,
              { method, path: signedPath, nonce: signed[HEADER.nonce] as string, status, body: raw },
              typeof signature === 'string' ? signature : undefined,
            );
            // 401 is the one answer the relay cannot sign (it does not know the caller's key);
            // it is a failure whoever sent it. Every other answer must be the relay's, for this request.
            if (!authentic && status !== 401) {
              fail(
                new RelayCallError(
                  `relay ${this.origin}: the answer to ${method} ${signedPath} (HTTP ${status}) is not signed by the relay for this request; not trusted`,
                  status,
                  'unauthenticated-answer',
                ),
              );
              return;
            }
            let json: unknown = null;
            try {
              json = JSON.parse(raw.toString('utf8'));
            } catch {
              // Left null: refusal() reports an unexpected answer.
            }
            settle(() => resolve({ status, json }));
          });
          res.on('error', (error: Error) =>
            fail(
              new RelayCallError(`relay ${this.origin} answer cut: ${error.message}`, null, 'unreachable'),
            ),
          );
        },
      );
      // A deadline for the whole call, not an idle timeout: an answer trickling in a byte at
      // a time would otherwise hold the fence step for as long as the sender likes.
      const deadline = setTimeout(
        () =>
          fail(
            new RelayCallError(
              `relay ${this.origin} gave no complete answer within ${timeoutMs} ms`,
              null,
              'timeout',
            ),
          ),
        timeoutMs,
      );
      req.on('error', (error: NodeJS.ErrnoException) =>
        fail(
          new RelayCallError(
            `relay ${this.origin} unreachable: ${error.code ?? error.message}`,
            null,
            'unreachable',
          ),
        ),
      );
      req.end(body || undefined);
    });
  }
}
