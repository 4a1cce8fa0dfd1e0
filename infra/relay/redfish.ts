// Redfish ComputerSystem power: GET PowerState, POST Actions/ComputerSystem.Reset.
// Basic auth per request (no session to leak or expire); the password stays in memory.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { ControllerError, redactSecrets } from './controller-error.js';
import type { RedfishEntry } from './inventory.js';
import type { PowerAction, RelayPowerState } from './protocol.js';

const RESET_TYPE: Record<PowerAction, string> = { off: 'ForceOff', on: 'On', cycle: 'PowerCycle' };

// Errors raised before a request can have reached the BMC.
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
]);

interface Reply {
  status: number;
  body: string;
}

function request(
  entry: RedfishEntry,
  password: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<Reply> {
  const url = new URL(path, entry.url);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const secure = url.protocol === 'https:';
  const options: https.RequestOptions = {
    method,
    headers: {
      accept: 'application/json',
      authorization: `Basic ${Buffer.from(`${entry.user}:${password}`).toString('base64')}`,
      ...(payload
        ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
        : {}),
    },
    timeout: entry.timeoutMs,
    ...(secure
      ? {
          rejectUnauthorized: !entry.insecureSkipVerify,
          ...(entry.caFile ? { ca: readFileSync(entry.caFile) } : {}),
        }
      : {}),
  };
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => {
        if (chunks.length < 256) chunks.push(chunk);
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () =>
      req.destroy(Object.assign(new Error(`no answer within ${entry.timeoutMs} ms`), { code: 'ETIMEDOUT' })),
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function call(
  entry: RedfishEntry,
  password: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<Reply> {
  let reply: Reply;
  try {
    reply = await request(entry, password, method, path, body);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const message = `${code ? `${code}: ` : ''}${(error as Error).message}`;
    if (NOT_SENT.has(code)) throw new ControllerError('unreachable', `BMC unreachable: ${message}`);
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
      throw new ControllerError('config', `BMC certificate not trusted (set caFile): ${message}`);
    }
    if (method === 'GET') throw new ControllerError('unreachable', `BMC unreachable: ${message}`);
    throw new ControllerError('may-have-run', `no answer to the reset; it may have been applied: ${message}`);
  }
  if (reply.status === 401 || reply.status === 403) {
    throw new ControllerError('auth-failed', `BMC rejected the credentials (HTTP ${reply.status})`);
  }
  if (reply.status >= 200 && reply.status < 300) return reply;
  const detail = redfishMessage(reply.body, password);
  if (method === 'POST' && reply.status >= 500) {
    throw new ControllerError(
      'may-have-run',
      `BMC answered HTTP ${reply.status} to the reset${detail}; it may have been applied`,
    );
  }
  throw new ControllerError(
    'command-failed',
    `BMC answered HTTP ${reply.status} to ${method} ${path}${detail}`,
  );
}

/** The first message of a Redfish error body, if any, with the password masked before the cut. */
function redfishMessage(body: string, password: string): string {
  try {
    const parsed = JSON.parse(body) as {
      error?: { message?: string; '@Message.ExtendedInfo'?: { Message?: string }[] };
    };
    const message = parsed.error?.['@Message.ExtendedInfo']?.[0]?.Message ?? parsed.error?.message;
    return message ? `: ${redactSecrets(String(message), [password]).slice(0, 200)}` : '';
  } catch {
    return '';
  }
}

/** PoweringOff still draws power: only `Off` counts as off. */
export function mapPowerState(value: unknown): RelayPowerState {
  if (value === 'Off') return 'off';
  if (value === 'On' || value === 'PoweringOn' || value === 'PoweringOff' || value === 'Paused') return 'on';
  return 'unknown';
}

export async function redfishStatus(entry: RedfishEntry, password: string): Promise<RelayPowerState> {
  const reply = await call(entry, password, 'GET', entry.systemPath);
  let system: { PowerState?: unknown };
  try {
    system = JSON.parse(reply.body) as { PowerState?: unknown };
  } catch {
    throw new ControllerError(
      'command-failed',
      `BMC answered ${entry.systemPath} with something that is not JSON`,
    );
  }
  return mapPowerState(system.PowerState);
}

/** Resets, then reads PowerState once; the caller's verify loop decides whether that is final. */
export async function redfishAction(
  entry: RedfishEntry,
  password: string,
  action: PowerAction,
): Promise<RelayPowerState> {
  await call(entry, password, 'POST', `${entry.systemPath}/Actions/ComputerSystem.Reset`, {
    ResetType: RESET_TYPE[action],
  });
  try {
    return await redfishStatus(entry, password);
  } catch {
    return 'unknown';
  }
}
