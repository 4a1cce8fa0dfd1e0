// The bastion relay (infra/relay) in this process for the fault cases, in front of the real
// ipmi_sim BMCs of test/support/bmc-lab.ts, with a clock that can be set wrong, a fault
// proxy the fencer can be pointed through, a hold on its BMC calls (a BMC busy with a long
// call) and a flood of signed status reads from another caller.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseInventory } from '../../../infra/relay/inventory.js';
import { FENCING_ACTIONS, powerPath, signRequest } from '../../../infra/relay/protocol.js';
import { type Relay, startRelay } from '../../../infra/relay/relay-server.js';
import { runCommand } from '../../../infra/relay/run-command.js';
import type { Bmc } from '../../support/bmc-lab.js';
import { ipmiEntry } from '../../support/relay-lab.js';

export interface FaultRelay {
  url: string;
  audit: string[];
  /** The ipmitool command (status, off, ...) of every BMC call started, in order. */
  commands: string[];
  /** The fencer section reaching the relay at `url` (the relay itself, a proxy, a closed port). */
  fencer(url?: string, timeoutMs?: number): Record<string, unknown>;
  /** Holds every BMC call at its start (recorded in `commands`) until the returned function is called. */
  hold(): () => void;
  /** Calls waiting in the host's line at the relay. */
  waiting(host: string): number;
  /** `count` signed status reads of `host` at once, as another holder of a key would send; their HTTP statuses. */
  flood(host: string, count: number): Promise<number[]>;
  /** Audit lines whose outcome is `outcome`. */
  outcomes(outcome: string): number;
  close(): Promise<void>;
}

export async function startFaultRelay(
  bmcs: Record<string, Bmc>,
  options: { clockSkewMs?: number; passwordFiles?: Record<string, string> } = {},
): Promise<FaultRelay> {
  const dir = mkdtempSync(join(tmpdir(), 'freezer-dr-fault-relay-'));
  const keyFile = join(dir, 'hmac.key');
  const key = randomBytes(32).toString('hex');
  writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
  const hosts = Object.fromEntries(
    Object.entries(bmcs).map(([host, bmc]) => [
      host,
      ipmiEntry(bmc, options.passwordFiles?.[host] ? { passwordFile: options.passwordFiles[host] } : {}),
    ]),
  );
  const audit: string[] = [];
  const commands: string[] = [];
  let held: Promise<void> | null = null;
  const skew = options.clockSkewMs ?? 0;
  const secret = Buffer.from(key);
  const relay: Relay = await startRelay({
    inventory: parseInventory({ hosts }),
    // The fencing key a deployment gives its Lambdas: status and off, nothing else.
    keys: new Map([['faults', { secret, actions: FENCING_ACTIONS }]]),
    audit: (line) => audit.push(line),
    power: {
      env: {},
      ipmitoolPath: 'ipmitool',
      virshPath: 'virsh',
      runner: async (request) => {
        commands.push(request.args.at(-1) ?? '');
        while (held) await held;
        return runCommand(request);
      },
    },
    now: () => Date.now() + skew,
  });
  const { port } = new URL(relay.url);
  const read = (path: string) =>
    new Promise<number>((resolve) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          path,
          agent: false,
          headers: signRequest({ id: 'faults', secret }, 'GET', path, ''),
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', () => resolve(0));
      req.end();
    });
  return {
    url: relay.url,
    audit,
    commands,
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
    waiting: (host) => relay.power.waiting(host),
    flood: (host, count) => Promise.all(Array.from({ length: count }, () => read(powerPath(host)))),
    outcomes: (outcome) => audit.filter((line) => JSON.parse(line).outcome === outcome).length,
    fencer: (url = relay.url, timeoutMs = 10_000) => ({
      driver: 'ipmi-relay',
      url,
      keyId: 'faults',
      key: { file: keyFile },
      timeoutMs,
    }),
    async close() {
      await relay.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
