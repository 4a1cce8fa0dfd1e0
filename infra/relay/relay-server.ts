// The relay's HTTP(S) front: authenticate, validate, act, answer, audit. Every request
// gets exactly one audit line, whatever happens to it.
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { type AuditRecord, type AuditSink, auditLine, stdoutAudit } from './audit.js';
import { QueueRefusalError } from './host-queue.js';
import { describeController, type Inventory, type InventoryEntry } from './inventory.js';
import { PowerControl, type PowerControlOptions } from './power-control.js';
import {
  CONTROLLER_KINDS,
  type ControllerKind,
  HEADER,
  type HostPowerAnswer,
  isValidHostName,
  POWER_ACTIONS,
  type PowerAction,
  RELAY_ACTIONS,
  type RelayAction,
  signAnswer,
} from './protocol.js';
import { authenticate, NonceCache } from './request-auth.js';

/** One accepted HMAC key and what requests signed with it may do. */
export interface RelayKey {
  secret: Buffer;
  actions: readonly RelayAction[];
}

export interface RelayOptions {
  inventory: Inventory;
  /** Accepted keys by key id (main.ts swaps them in place on SIGHUP). */
  keys: ReadonlyMap<string, RelayKey>;
  listen?: { host: string; port: number };
  tls?: { cert: Buffer; key: Buffer };
  windowMs?: number;
  actions?: readonly RelayAction[];
  drillConcurrency?: number;
  power?: PowerControlOptions;
  /** Sockets and how long a caller may take to send its request (relay.yaml `connections`). */
  connections?: Partial<ConnectionLimits>;
  audit?: AuditSink;
  now?: () => number;
}

export interface ConnectionLimits {
  /** Sockets open at once, all sources together; beyond, new ones are closed at once. */
  max: number;
  /** From accepting a socket to its complete request headers (TLS: to the end of the handshake). */
  headersTimeoutMs: number;
  /** From accepting a socket to its complete request, body included. */
  requestTimeoutMs: number;
}

/**
 * Under the systemd unit's LimitNOFILE (4096) with room for ipmitool's pipes; a fence needs a
 * handful of sockets. Header-less sockets are closed within headersTimeout + 1 s.
 */
export const CONNECTION_DEFAULTS: ConnectionLimits = {
  max: 256,
  headersTimeoutMs: 5000,
  requestTimeoutMs: 10_000,
};

export interface Relay {
  url: string;
  power: PowerControl;
  close(): Promise<void>;
}

const MAX_BODY = 8 * 1024;

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly detail?: string,
  ) {
    super(reason);
  }
}

/** Reads at most MAX_BODY bytes; a larger body is drained (bounded by requestTimeout) and refused. */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on('end', () =>
      size > MAX_BODY ? reject(new Refusal(413, 'body-too-large')) : resolve(Buffer.concat(chunks)),
    );
    req.on('error', reject);
    // The caller went before sending its whole body: nothing to authenticate or answer.
    req.on('close', () => {
      if (!req.complete) reject(new Refusal(400, 'body-incomplete'));
    });
  });
}

interface Route {
  kind: 'host' | 'inventory' | 'listing';
  host: string | null;
  action: RelayAction;
  expectKind: ControllerKind | null;
}

/** Maps method + path to a route, refusing anything outside the small allowed surface. */
function route(method: string, rawUrl: string): Route {
  // "//host/path" would parse as a URL with an authority: only plain absolute paths route.
  if (!rawUrl.startsWith('/') || rawUrl.startsWith('//')) throw new Refusal(404, 'not-found');
  const url = new URL(rawUrl, 'http://relay.invalid');
  // The signature covers the target as sent; routing must act on that same text. A target
  // that parsing rewrites (dot segments, %2E%2E, backslashes, a fragment) is refused, never
  // normalised: "/v1/hosts/%2E%2E/power" would otherwise route as "/v1/power".
  if (`${url.pathname}${url.search}` !== rawUrl) throw new Refusal(400, 'non-canonical-path');
  const expect = url.searchParams.get('kind');
  if (expect !== null && !CONTROLLER_KINDS.includes(expect as ControllerKind))
    throw new Refusal(400, 'bad-kind');
  for (const name of url.searchParams.keys()) {
    if (name !== 'kind') throw new Refusal(400, 'bad-query');
  }
  const expectKind = expect as ControllerKind | null;
  const parts = url.pathname.split('/');
  if (url.pathname === '/v1/hosts') {
    if (method !== 'GET') throw new Refusal(405, 'method-not-allowed');
    return { kind: 'listing', host: null, action: 'status', expectKind };
  }
  if (url.pathname === '/v1/power') {
    if (method !== 'GET') throw new Refusal(405, 'method-not-allowed');
    return { kind: 'inventory', host: null, action: 'status', expectKind };
  }
  // ['', 'v1', 'hosts', host, 'power', action?]
  if (
    parts.length < 5 ||
    parts.length > 6 ||
    parts[1] !== 'v1' ||
    parts[2] !== 'hosts' ||
    parts[4] !== 'power'
  ) {
    throw new Refusal(404, 'not-found');
  }
  let host: string;
  try {
    host = decodeURIComponent(parts[3] ?? '');
  } catch {
    throw new Refusal(400, 'invalid-host');
  }
  if (!isValidHostName(host)) throw new Refusal(400, 'invalid-host');
  if (parts.length === 5) {
    if (method !== 'GET') throw new Refusal(405, 'method-not-allowed');
    return { kind: 'host', host, action: 'status', expectKind };
  }
  const action = parts[5] ?? '';
  if (!POWER_ACTIONS.includes(action as PowerAction)) throw new Refusal(400, 'unknown-action');
  if (method !== 'POST') throw new Refusal(405, 'method-not-allowed');
  return { kind: 'host', host, action: action as PowerAction, expectKind };
}

export async function startRelay(options: RelayOptions): Promise<Relay> {
  const power = new PowerControl(options.inventory, options.power);
  const windowMs = options.windowMs ?? 30_000;
  // Twice the window: a timestamp may be up to windowMs in the future or the past.
  const nonces = new NonceCache(2 * windowMs + 1000);
  const allowed = new Set<RelayAction>(options.actions ?? RELAY_ACTIONS);
  const audit = options.audit ?? stdoutAudit;
  const now = options.now ?? Date.now;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const record: AuditRecord = {
      event: 'relay.request',
      id: randomUUID(),
      remote: req.socket.remoteAddress ?? null,
      method: req.method ?? '',
      path: req.url ?? '',
      keyId: null,
      auth: 'none',
      host: null,
      action: null,
      status: 500,
      outcome: 'error',
      controller: null,
      message: null,
      ms: 0,
    };
    // Set once the request is authenticated: every later answer is MACed for this request.
    let answerKey: { secret: Buffer; nonce: string } | null = null;
    const send = (status: number, body: unknown) => {
      record.status = status;
      const text = JSON.stringify(body);
      const signature = answerKey
        ? {
            [HEADER.answerSignature]: signAnswer(answerKey.secret, {
              method: record.method,
              path: record.path,
              nonce: answerKey.nonce,
              status,
              body: text,
            }),
          }
        : {};
      res.writeHead(status, {
        'content-type': 'application/json',
        'cache-control': 'no-store',
        ...signature,
      });
      res.end(text);
    };
    // Aborts when the connection goes before the answer is sent: work still waiting for
    // its turn is then dropped instead of running for nobody.
    const caller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) caller.abort();
    });
    try {
      const body = await readBody(req);
      const auth = authenticate(
        { method: record.method, path: record.path, headers: req.headers, body },
        options.keys,
        nonces,
        windowMs,
        now(),
      );
      record.keyId = auth.keyId;
      record.auth = auth.ok ? 'ok' : auth.reason;
      // One answer for every failure: telling "unknown key" from "bad signature" would let
      // anyone enumerate key ids. The audit line keeps the reason.
      if (!auth.ok) throw new Refusal(401, 'unauthorized');
      const key = options.keys.get(auth.keyId) as RelayKey;
      answerKey = { secret: key.secret, nonce: req.headers[HEADER.nonce] as string };

      const target = route(record.method, record.path);
      record.host = target.host;
      record.action = target.action;
      if (!allowed.has(target.action) || !key.actions.includes(target.action)) {
        throw new Refusal(403, 'action-not-allowed');
      }

      if (target.kind === 'listing') {
        // What controls each host, without touching any BMC: lets callers name BMCs in reports.
        const hosts = power
          .hosts()
          .map((host) => ({ host, entry: power.entry(host) as InventoryEntry }))
          .filter(({ entry }) => !target.expectKind || entry.kind === target.expectKind)
          .map(({ host, entry }) => ({ host, kind: entry.kind, controller: describeController(entry) }));
        record.outcome = `${hosts.length} hosts`;
        send(200, { hosts });
        return;
      }
      if (target.kind === 'inventory') {
        const hosts = await power.statusAll(options.drillConcurrency ?? 8, target.expectKind, caller.signal);
        const failed = hosts.filter((h) => h.error).length;
        record.outcome = `${hosts.length - failed} ok, ${failed} failed`;
        send(200, { hosts });
        return;
      }
      const host = target.host as string;
      const entry = power.entry(host);
      if (!entry) throw new Refusal(404, 'unknown-host');
      if (target.expectKind && entry.kind !== target.expectKind) {
        throw new Refusal(
          409,
          'kind-mismatch',
          `${host} is controlled by ${entry.kind}, not ${target.expectKind}`,
        );
      }
      const answer: HostPowerAnswer = await power.run(host, target.action, caller.signal);
      record.controller = answer.controller;
      record.outcome = answer.error ? answer.error.class : (answer.state ?? 'accepted');
      record.message = answer.error?.message ?? null;
      send(answer.error ? 502 : 200, answer);
    } catch (error) {
      if (error instanceof QueueRefusalError && error.reason === 'caller-gone') {
        // Nobody to answer; 499 ("client closed request") in the audit line only.
        record.status = 499;
        record.outcome = error.reason;
        record.message = error.message;
      } else if (error instanceof QueueRefusalError) {
        record.outcome = error.reason;
        record.message = error.message;
        send(503, { error: error.reason, detail: error.message });
      } else if (error instanceof Refusal) {
        record.outcome = error.reason;
        record.message = error.detail ?? null;
        send(error.status, { error: error.reason, ...(error.detail ? { detail: error.detail } : {}) });
      } else {
        record.outcome = 'internal-error';
        record.message = (error as Error).message;
        send(500, { error: 'internal-error' });
      }
    } finally {
      record.ms = Math.round(performance.now() - started);
      audit(auditLine(record));
    }
  };

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res);
  };
  const limits = { ...CONNECTION_DEFAULTS, ...options.connections };
  const timeouts = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    // Node checks both only this often (30 s by default): idle sockets then outlive headersTimeout by up to 30 s.
    connectionsCheckingInterval: 1000,
  };
  const server = options.tls
    ? https.createServer(
        {
          cert: options.tls.cert,
          key: options.tls.key,
          minVersion: 'TLSv1.2',
          // headersTimeout starts once TLS is up; a socket that never handshakes is bounded here (120 s by default).
          handshakeTimeout: limits.headersTimeoutMs,
          ...timeouts,
        },
        listener,
      )
    : http.createServer(timeouts, listener);
  server.maxConnections = limits.max;
  const listen = options.listen ?? { host: '127.0.0.1', port: 0 };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `${options.tls ? 'https' : 'http'}://${hostPart}:${address.port}`,
    power,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
