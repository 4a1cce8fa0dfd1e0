// The bastion relay (infra/relay) in this process for the fault cases, in front of the real
// ipmi_sim BMCs of test/support/bmc-lab.ts, with a clock that can be set wrong and a fault
// proxy the fencer can be pointed through.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseInventory } from '../../../infra/relay/inventory.js';
import { FENCING_ACTIONS } from '../../../infra/relay/protocol.js';
import { type Relay, startRelay } from '../../../infra/relay/relay-server.js';
import type { Bmc } from '../../support/bmc-lab.js';
import { ipmiEntry } from '../../support/relay-lab.js';

export interface FaultRelay {
  url: string;
  audit: string[];
  /** The fencer section reaching the relay at `url` (the relay itself, a proxy, a closed port). */
  fencer(url?: string, timeoutMs?: number): Record<string, unknown>;
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
  const skew = options.clockSkewMs ?? 0;
  const relay: Relay = await startRelay({
    inventory: parseInventory({ hosts }),
    // The fencing key a deployment gives its Lambdas: status and off, nothing else.
    keys: new Map([['faults', { secret: Buffer.from(key), actions: FENCING_ACTIONS }]]),
    audit: (line) => audit.push(line),
    power: { env: {}, ipmitoolPath: 'ipmitool', virshPath: 'virsh' },
    now: () => Date.now() + skew,
  });
  return {
    url: relay.url,
    audit,
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
