// The relay's wire protocol, shared by the relay and the fencer drivers that call it.
// A request is signed with HMAC-SHA256 over a canonical string that binds the method,
// the path (with its query), a timestamp, a single-use nonce and a hash of the body, so
// a captured request cannot be replayed, re-targeted at another host or re-timed. The
// relay MACs its answer with the same key over that request (method, path, nonce) and
// the answer itself (status, body), so nothing but the relay can say "off", and a genuine
// answer cannot be replayed to another request.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_VERSION = 'freezer-dr-relay-v1';
/** First line of an answer's canonical string; differs from a request's, so one MAC can never pass for the other. */
export const ANSWER_SIGNATURE_VERSION = 'freezer-dr-relay-answer-v1';

export const HEADER = {
  keyId: 'x-relay-key-id',
  timestamp: 'x-relay-timestamp',
  nonce: 'x-relay-nonce',
  signature: 'x-relay-signature',
  /** On answers: hex HMAC-SHA256 of the answer's canonical string. */
  answerSignature: 'x-relay-answer-signature',
} as const;

export const POWER_ACTIONS = ['off', 'on', 'cycle'] as const;
export type PowerAction = (typeof POWER_ACTIONS)[number];
/** Everything the relay can be allowed to do; `status` covers the single-host and whole-inventory reads. */
export const RELAY_ACTIONS = ['status', ...POWER_ACTIONS] as const;
export type RelayAction = (typeof RELAY_ACTIONS)[number];
/** What a key may do unless relay.yaml grants it more: everything fencing needs, nothing that powers a host on. */
export const FENCING_ACTIONS = ['status', 'off'] as const satisfies readonly RelayAction[];

/** Loopback host names and addresses (IPv6 with or without the URL's brackets). */
export const isLoopback = (host: string) =>
  host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);

export const CONTROLLER_KINDS = ['ipmi', 'redfish', 'libvirt'] as const;
export type ControllerKind = (typeof CONTROLLER_KINDS)[number];

export type RelayPowerState = 'on' | 'off' | 'unknown';

/**
 * Why a power controller call failed. `may-have-run` means the command was sent but no
 * answer came back: the host may be off or on, only a later status read can tell. `busy`
 * (drill entries only) means the relay sent nothing: the host's line turned the read away.
 */
export const FAILURE_CLASSES = [
  'auth-failed',
  'unreachable',
  'command-failed',
  'may-have-run',
  'config',
  'busy',
] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

export interface RelayFailure {
  class: FailureClass;
  message: string;
}

/** One host's answer, from GET /v1/hosts/:host/power, POST .../power/:action and GET /v1/power. */
export interface HostPowerAnswer {
  host: string;
  kind: ControllerKind;
  /** What controls the host's power, e.g. "ipmi lanplus 10.0.0.11:623" (never a secret). */
  controller: string;
  action: RelayAction;
  /** Power state read by this call (for actions: read in the same session, when the controller allows). */
  state: RelayPowerState | null;
  error: RelayFailure | null;
  ms: number;
}

/** GET /v1/hosts: the inventory without any BMC call. */
export interface InventoryListing {
  hosts: { host: string; kind: ControllerKind; controller: string }[];
}

export interface InventoryPowerAnswer {
  hosts: HostPowerAnswer[];
}

/** Host names as the relay accepts them: DNS-label-like, never starting with '-' or carrying shell metacharacters. */
export const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

export const isValidHostName = (name: string) => HOST_NAME.test(name) && !name.includes('..');

export const sha256Hex = (body: string | Buffer) => createHash('sha256').update(body).digest('hex');

export function canonicalString(parts: {
  method: string;
  path: string;
  timestamp: string;
  nonce: string;
  body: string | Buffer;
}): string {
  return [
    SIGNATURE_VERSION,
    parts.method.toUpperCase(),
    parts.path,
    parts.timestamp,
    parts.nonce,
    sha256Hex(parts.body),
  ].join('\n');
}

export const computeSignature = (key: Buffer, canonical: string) =>
  createHmac('sha256', key).update(canonical).digest('hex');

/** Headers for one request; a fresh nonce each call. */
export function signRequest(
  key: { id: string; secret: Buffer },
  method: string,
  path: string,
  body: string,
  now = Date.now(),
): Record<string, string> {
  const timestamp = String(now);
  const nonce = randomBytes(16).toString('hex');
  return {
    [HEADER.keyId]: key.id,
    [HEADER.timestamp]: timestamp,
    [HEADER.nonce]: nonce,
    [HEADER.signature]: computeSignature(
      key.secret,
      canonicalString({ method, path, timestamp, nonce, body }),
    ),
  };
}

/** The request an answer belongs to, and the answer itself, exactly as sent and received. */
export interface AnswerParts {
  method: string;
  /** The path with its query, as signed in the request. */
  path: string;
  /** The request's nonce. */
  nonce: string;
  status: number;
  body: string | Buffer;
}

export function answerCanonicalString(parts: AnswerParts): string {
  return [
    ANSWER_SIGNATURE_VERSION,
    parts.method.toUpperCase(),
    parts.path,
    parts.nonce,
    String(parts.status),
    sha256Hex(parts.body),
  ].join('\n');
}

export const signAnswer = (key: Buffer, parts: AnswerParts) =>
  computeSignature(key, answerCanonicalString(parts));

/** True only for a well-formed signature that matches (constant-time). */
export function verifyAnswer(key: Buffer, parts: AnswerParts, signature: string | undefined): boolean {
  if (!signature || !/^[0-9a-f]{64}$/i.test(signature)) return false;
  return timingSafeEqual(Buffer.from(signature, 'hex'), Buffer.from(signAnswer(key, parts), 'hex'));
}

export const powerPath = (host: string, action?: PowerAction) =>
  `/v1/hosts/${encodeURIComponent(host)}/power${action ? `/${action}` : ''}`;
