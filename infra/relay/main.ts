// Entry point on the bastion: `node freezer-dr-relay.cjs /etc/freezer-dr-relay/relay.yaml`.
// SIGHUP re-reads keys and inventory (a bad file keeps the old ones); SIGTERM stops cleanly.
import { readFileSync } from 'node:fs';
import { loadInventory } from './inventory.js';
import { readHmacKey } from './key-material.js';
import { assertSafeListen, loadRelayConfig, type RelayConfig } from './relay-config.js';
import { type RelayKey, startRelay } from './relay-server.js';

const log = (event: string, fields: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ ts: new Date().toISOString(), event, ...fields })}\n`);

const readKeys = (config: RelayConfig) =>
  new Map<string, RelayKey>(
    config.keys.map((k) => [k.id, { secret: readHmacKey(k, process.env), actions: k.actions }]),
  );
/** Which key may do what, for the start and reload lines (never the key itself). */
const grants = (keys: Map<string, RelayKey>) =>
  Object.fromEntries([...keys].map(([id, key]) => [id, key.actions]));

async function main(configPath: string): Promise<void> {
  const config = loadRelayConfig(configPath);
  assertSafeListen(config);
  const keys = readKeys(config);
  const inventory = loadInventory(config.inventoryFile);
  const relay = await startRelay({
    inventory,
    keys,
    listen: config.listen,
    ...(config.tls
      ? { tls: { cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) } }
      : {}),
    windowMs: config.signatureWindowSeconds * 1000,
    actions: config.actions,
    drillConcurrency: config.drillConcurrency,
    connections: {
      max: config.connections.max,
      headersTimeoutMs: config.connections.headersTimeoutSeconds * 1000,
      requestTimeoutMs: config.connections.requestTimeoutSeconds * 1000,
    },
    power: {
      ipmitoolPath: config.ipmitoolPath,
      virshPath: config.virshPath,
      queue: { maxWaiting: config.queue.maxPerHost, maxWaitMs: config.queue.maxWaitSeconds * 1000 },
    },
  });
  log('relay.start', {
    url: relay.url,
    tls: Boolean(config.tls),
    hosts: Object.keys(inventory.hosts).length,
    keys: [...keys.keys()],
    grants: grants(keys),
    actions: config.actions,
  });
  // Re-reads relay.yaml's keys and the inventory (key rotation, new hosts). Listening
  // address and TLS material need a restart. A bad file keeps everything as it was.
  process.on('SIGHUP', () => {
    try {
      const next = loadRelayConfig(configPath);
      const nextKeys = readKeys(next);
      const nextInventory = loadInventory(next.inventoryFile);
      keys.clear();
      for (const [id, key] of nextKeys) keys.set(id, key);
      relay.power.replaceInventory(nextInventory);
      log('relay.reloaded', {
        hosts: Object.keys(nextInventory.hosts).length,
        keys: [...keys.keys()],
        grants: grants(keys),
      });
    } catch (error) {
      log('relay.reload-failed', { message: (error as Error).message });
    }
  });
  const stop = (signal: string) => {
    log('relay.stop', { signal });
    void relay.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

const configPath =
  process.argv[2] ?? process.env.FREEZER_DR_RELAY_CONFIG ?? '/etc/freezer-dr-relay/relay.yaml';
main(configPath).catch((error: unknown) => {
  log('relay.fatal', { message: (error as Error).message });
  process.exit(1);
});
