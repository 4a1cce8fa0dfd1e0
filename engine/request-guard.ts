// Who may use `serve`'s own endpoints (everything but the webhook, which authenticates its
// senders itself). A web page the operator happens to open must not reach them: through DNS
// rebinding its requests name the attacker's host in Host, and from another origin they
// carry its Origin; both are refused. Changing anything (starting or stopping a recovery)
// also needs the local token (engine/local-api-token.ts); reading stays open on this address.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';
import { isLoopback } from './local-config.js';

export interface RequestGuard {
  /** Host names (lower case, without brackets or port) this server answers to. */
  names: ReadonlySet<string>;
  port: number;
}

const WILDCARD = new Set(['0.0.0.0', '::', '']);

/** The names a client may use for a server bound to `bound`: loopback ones, and the bound address (all of this machine's for a wildcard). */
export function serverNames(bound: string): Set<string> {
  const names = new Set(['localhost', '127.0.0.1', '::1']);
  if (isLoopback(bound)) {
    names.add(bound.toLowerCase());
    return names;
  }
  if (!WILDCARD.has(bound)) {
    names.add(bound.toLowerCase());
    return names;
  }
  names.add(hostname().toLowerCase());
  for (const addresses of Object.values(networkInterfaces()))
    for (const address of addresses ?? []) names.add(address.address.toLowerCase());
  return names;
}

/** "name" and port of a Host value or an origin's authority ("[::1]:8420", "localhost:8420"). */
function authority(value: string): { name: string; port: number | null } | null {
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(value.trim().toLowerCase());
  if (!match) return null;
  return { name: (match[1] as string).replace(/^\[|\]$/g, ''), port: match[2] ? Number(match[2]) : null };
}

const isOurs = (value: string | undefined, guard: RequestGuard): boolean => {
  const parsed = value ? authority(value) : null;
  return parsed !== null && guard.names.has(parsed.name) && (parsed.port ?? 80) === guard.port;
};

/** Why a request is refused as coming from elsewhere (a rebound host name, another origin), or null. */
export function foreignRequest(req: IncomingMessage, guard: RequestGuard): string | null {
  const host = req.headers.host;
  if (!isOurs(host, guard)) {
    return `Host ${JSON.stringify(host ?? '')} is not this server (a page using DNS rebinding?); use http://127.0.0.1:${guard.port}`;
  }
  const origin = req.headers.origin;
  if (origin === undefined) return null;
  const match = /^http:\/\/(.+)$/.exec(origin);
  if (!match || !isOurs(match[1], guard))
    return `cross-origin request from ${JSON.stringify(origin)} refused`;
  return null;
}

const same = (a: string, b: string) => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

/** The local token, as an AWS session token (x-amz-security-token) or `Authorization: Bearer`. */
export function carriesToken(req: IncomingMessage, token: string): boolean {
  if (!token) return false;
  const session = req.headers['x-amz-security-token'];
  if (typeof session === 'string' && same(session, token)) return true;
  const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '');
  return bearer !== null && same((bearer[1] as string).trim(), token);
}
