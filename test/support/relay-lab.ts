// The bastion relay started in-process on 127.0.0.1 for tests, with a fresh HMAC key in
// a mode-600 file, every audit line captured, and every spawned tool's argv and
// environment recorded (the runner is the real one, wrapped).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InventoryEntry } from '../../infra/relay/inventory.js';
import { parseInventory } from '../../infra/relay/inventory.js';
import { HEADER, RELAY_ACTIONS, type RelayAction, signRequest } from '../../infra/relay/protocol.js';
import { type Relay, startRelay } from '../../infra/relay/relay-server.js';
import { type CommandRequest, runCommand } from '../../infra/relay/run-command.js';
import type { Bmc } from './bmc-lab.js';

export interface RelayLab {
  relay: Relay;
  url: string;
  keyId: string;
  key: Buffer;
  keyFile: string;
  /** Audit lines, as the relay wrote them. */
  audit: string[];
  /** Every tool run: argv and environment exactly as handed to execFile (recorded when the run starts). */
  spawned: CommandRequest[];
  /**
   * Holds every tool run at its start (a BMC busy with a long call) until the returned
   * function is called; runs already recorded in `spawned` then go on to the real tool.
   */
  hold(): () => void;
  /** Signed request with the lab key (or unsigned / tampered, as the test asks). */
  request(
    method: string,
    path: string,
    options?: { body?: string; headers?: Record<string, string>; sign?: boolean },
  ): Promise<{ status: number; json: Record<string, unknown> }>;
  /** One request sent with exactly this target; the answer as bytes, with its signature and the nonce sent. */
  raw(
    method: string,
    path: string,
    options?: { sign?: boolean },
  ): Promise<{ status: number; body: string; signature: string | undefined; nonce: string }>;
  fencerConfig(driver: string): Record<string, unknown>;
  close(): Promise<void>;
}

/** Inventory entry for a lab BMC, password by file unless told otherwise. */
export const ipmiEntry = (
  bmc: Bmc,
  overrides: Partial<Record<string, unknown>> = {},
): Record<string, unknown> => ({
  kind: 'ipmi',
  address: '127.0.0.1',
  port: bmc.port,
  user: bmc.user,
  passwordFile: bmc.passwordFile,
  cipherSuite: 3,
  ...overrides,
});

export async function startRelayLab(
  hosts: Record<string, Record<string, unknown> | InventoryEntry>,
  options: {
    windowMs?: number;
    actions?: RelayAction[];
    /** What the lab key may do: everything by default (tests power hosts back on), as a restore key would. */
    keyActions?: RelayAction[];
    env?: NodeJS.ProcessEnv;
    tls?: { cert: Buffer; key: Buffer };
    queue?: { maxWaiting?: number; maxWaitMs?: number };
    connections?: { max?: number; headersTimeoutMs?: number; requestTimeoutMs?: number };
  } = {},
): Promise<RelayLab> {
  const dir = mkdtempSync(join(tmpdir(), 'freezer-dr-relay-'));
  const keyId = 'test-key';
  const keyText = randomBytes(32).toString('hex');
  const keyFile = join(dir, 'hmac.key');
  writeFileSync(keyFile, `${keyText}\n`, { mode: 0o600 });
  const key = Buffer.from(keyText);
  const audit: string[] = [];
  const spawned: CommandRequest[] = [];
  let held: Promise<void> | null = null;
  const relay = await startRelay({
    inventory: parseInventory({ hosts }),
    keys: new Map([[keyId, { secret: key, actions: options.keyActions ?? [...RELAY_ACTIONS] }]]),
    windowMs: options.windowMs ?? 30_000,
    ...(options.actions ? { actions: options.actions } : {}),
    ...(options.tls ? { tls: options.tls } : {}),
    ...(options.connections ? { connections: options.connections } : {}),
    audit: (line) => audit.push(line),
    power: {
      env: options.env ?? {},
      ipmitoolPath: 'ipmitool',
      virshPath: 'virsh',
      runner: async (request) => {
        spawned.push(request);
        while (held) await held;
        return runCommand(request);
      },
      ...(options.queue ? { queue: options.queue } : {}),
    },
  });
  return {
    relay,
    url: relay.url,
    keyId,
    key,
    keyFile,
    audit,
    spawned,
    async request(method, path, { body = '', headers = {}, sign = true } = {}) {
      // Sign what will really be sent: URL parsing percent-encodes some characters.
      const url = new URL(path, relay.url);
      const sent = `${url.pathname}${url.search}`;
      const signed = sign ? signRequest({ id: keyId, secret: key }, method, sent, body) : {};
      const response = await fetch(url, {
        method,
        headers: { ...signed, ...headers },
        ...(body ? { body } : {}),
      });
      const text = await response.text();
      return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    },
    hold() {
      let release = () => {};
      held = new Promise<void>((resolve) => {
        release = resolve;
      });
      return () => {
        held = null;
        release();
      };
    },
    raw(method, path, { sign = true } = {}) {
      const body = method === 'POST' ? '{}' : '';
      const headers = sign ? signRequest({ id: keyId, secret: key }, method, path, body) : {};
      const { port } = new URL(relay.url);
      return new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const signature = res.headers[HEADER.answerSignature];
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
              signature: typeof signature === 'string' ? signature : undefined,
              nonce: headers[HEADER.nonce] ?? '',
            });
          });
        });
        req.on('error', reject);
        req.end(body || undefined);
      });
    },
    fencerConfig: (driver) => ({ driver, url: relay.url, keyId, key: { file: keyFile }, timeoutMs: 15_000 }),
    async close() {
      await relay.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
