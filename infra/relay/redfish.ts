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

/** A ComputerSystem resource is a few KB: an answer far larger is not worth reading to its end. */
export const MAX_ANSWER_BYTES = 256 * 1024;

const failure = (message: string, code: string) => Object.assign(new Error(message), { code });

/**
 * One request, given up when `deadline` fires: connecting, headers and body together. An
 * idle timeout would let a BMC sending a byte now and then hold the call (and the host's
 * queue) for as long as it likes.
 */
function request(
  entry: RedfishEntry,
  password: string,
  method: 'GET' | 'POST',
  path: string,
  deadline: AbortSignal,
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
    ...(secure
      ? {
          rejectUnauthorized: !entry.insecureSkipVerify,
          ...(entry.caFile ? { ca: readFileSync(entry.caFile) } : {}),
        }
      : {}),
  };
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      req.destroy();
      reject(error);
    };
    const req = (secure ? https : http).request(url, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) {
          fail(
            failure(
              `BMC answer to ${method} ${path} is larger than ${MAX_ANSWER_BYTES} bytes`,
              'ERR_ANSWER_TOO_LARGE',
            ),
          );
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        if (settled) return;
        settled = true;
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', fail);
    });
    const expire = () => fail(failure(`no complete answer within ${entry.timeoutMs} ms`, 'ETIMEDOUT'));
    if (deadline.aborted) expire();
    else deadline.addEventListener('abort', expire, { once: true });
    req.on('close', () => deadline.removeEventListener('abort', expire));
    req.on('error', fail);
    req.end(payload);
  });
}

async function call(
  entry: RedfishEntry,
  password: string,
  method: 'GET' | 'POST',
  path: string,
  deadline: AbortSignal,
  body?: unknown,
): Promise<Reply> {
  let reply: Reply;
  try {
    reply = await request(entry, password, method, path, deadline, body);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (code === 'ERR_ANSWER_TOO_LARGE') {
      // The BMC did answer: a status read failed, a reset it received may have been applied.
      if (method === 'GET') throw new ControllerError('command-failed', (error as Error).message);
      throw new ControllerError(
        'may-have-run',
        `${(error as Error).message}; the reset may have been applied`,
      );
    }
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

export async function redfishStatus(
  entry: RedfishEntry,
  password: string,
  deadline = AbortSignal.timeout(entry.timeoutMs),
): Promise<RelayPowerState> {
  const reply = await call(entry, password, 'GET', entry.systemPath, deadline);
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

/**
 * Resets, then reads PowerState once; the caller's verify loop decides whether that is final.
 * Both requests share one deadline of timeoutMs: a read the reset left no time for is `unknown`.
 */
export async function redfishAction(
  entry: RedfishEntry,
  password: string,
  action: PowerAction,
): Promise<RelayPowerState> {
  const deadline = AbortSignal.timeout(entry.timeoutMs);
  await call(entry, password, 'POST', `${entry.systemPath}/Actions/ComputerSystem.Reset`, deadline, {
    ResetType: RESET_TYPE[action],
  });
  try {
    return await redfishStatus(entry, password, deadline);
  } catch {
    return 'unknown';
  }
}
