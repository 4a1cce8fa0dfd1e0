// The relay as it ships: bundled with esbuild into one .cjs file (the README's build
// command), started as its own process with a relay.yaml, reloaded with SIGHUP and
// stopped with SIGTERM, by PID. Hosts are libvirt's daemonless test driver, so no BMC
// is needed here. Also checks that the shipped example configs stay valid.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RelayClient } from '../../drivers/fencer/relay-client.js';
import { loadInventory } from '../../infra/relay/inventory.js';
import { powerPath } from '../../infra/relay/protocol.js';
import { assertSafeListen, loadRelayConfig, relayConfigSchema } from '../../infra/relay/relay-config.js';
import { requireBmcTools } from '../support/bmc-lab.js';

const KEY = 'a'.repeat(16) + 'b'.repeat(16) + 'c'.repeat(16);
/** The esbuild target the README's build command uses (the test builds exactly that). */
const README_TARGET = /--target=(node\d+)/.exec(readFileSync('infra/relay/README.md', 'utf8'))?.[1];
let dir: string;
let bundle: string;

interface RelayProcess {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  waitFor(event: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
}

function startRelayProcess(config: string): RelayProcess {
  const child = spawn(process.execPath, [bundle, config], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH },
  });
  const lines: Record<string, unknown>[] = [];
  let buffer = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      lines.push(JSON.parse(buffer.slice(0, newline)) as Record<string, unknown>);
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf('\n');
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    exited,
    async waitFor(event, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = lines.find((l) => l.event === event);
        if (found) return found;
        if (Date.now() > deadline || child.exitCode !== null) {
          throw new Error(`relay process: no ${event} line (got ${JSON.stringify(lines)})`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}

function writeConfig(name: string, listenHost = '127.0.0.1', extra = ''): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    `listen: { host: ${listenHost}, port: 0 }\ninventoryFile: inventory.yaml\nkeys:\n  - id: k1\n    file: hmac.key\n${extra}`,
  );
  return path;
}

beforeAll(async () => {
  requireBmcTools(['virsh']);
  dir = mkdtempSync(join(tmpdir(), 'freezer-dr-relay-svc-'));
  bundle = join(dir, 'freezer-dr-relay.cjs');
  await build({
    entryPoints: ['infra/relay/main.ts'],
    bundle: true,
    platform: 'node',
    target: README_TARGET ?? 'missing-from-readme',
    format: 'cjs',
    outfile: bundle,
    logLevel: 'silent',
  });
  writeFileSync(join(dir, 'hmac.key'), `${KEY}\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'inventory.yaml'), 'hosts:\n  test: { kind: libvirt, uri: "test:///default" }\n');
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the bundled relay process', () => {
  it('starts, answers signed requests, audits them on stdout, reloads on SIGHUP, stops on SIGTERM', async () => {
    const relay = startRelayProcess(writeConfig('relay.yaml'));
    try {
      const start = await relay.waitFor('relay.start');
      expect(start).toMatchObject({ tls: false, hosts: 1, keys: ['k1'], grants: { k1: ['status', 'off'] } });
      const client = new RelayClient({
        url: start.url as string,
        keyId: 'k1',
        key: Buffer.from(KEY),
        timeoutMs: 5000,
      });
      expect(await client.hostCall('GET', powerPath('test'))).toMatchObject({ state: 'on', kind: 'libvirt' });
      expect(await relay.waitFor('relay.request')).toMatchObject({
        auth: 'ok',
        host: 'test',
        status: 200,
      });

      writeFileSync(
        join(dir, 'inventory.yaml'),
        'hosts:\n  test: { kind: libvirt, uri: "test:///default" }\n  vm-2: { kind: libvirt, uri: "test:///default", domain: test }\n',
      );
      relay.child.kill('SIGHUP');
      expect(await relay.waitFor('relay.reloaded')).toMatchObject({ hosts: 2 });
      expect(await client.hostCall('GET', powerPath('vm-2'))).toMatchObject({ state: 'on' });

      writeFileSync(
        join(dir, 'inventory.yaml'),
        'hosts:\n  "-bad": { kind: libvirt, uri: "test:///default" }\n',
      );
      relay.child.kill('SIGHUP');
      expect((await relay.waitFor('relay.reload-failed')).message).toMatch(/inventory.yaml is invalid/);
      expect(await client.hostCall('GET', powerPath('vm-2'))).toMatchObject({ state: 'on' });

      relay.child.kill('SIGTERM');
      expect(await relay.exited).toBe(0);
    } finally {
      if (relay.child.exitCode === null && relay.child.signalCode === null) relay.child.kill('SIGKILL');
    }
  });

  it('refuses to start on plain HTTP off loopback, and with a short key', async () => {
    const plain = startRelayProcess(writeConfig('plain.yaml', '0.0.0.0'));
    expect(await plain.exited).toBe(1);
    expect(plain.lines.at(-1)).toMatchObject({
      event: 'relay.fatal',
      message: expect.stringContaining('refusing plain HTTP'),
    });

    writeFileSync(join(dir, 'short.key'), 'tooshort\n');
    const path = join(dir, 'short.yaml');
    writeFileSync(
      path,
      'listen: { port: 0 }\ninventoryFile: inventory.yaml\nkeys:\n  - id: k1\n    file: short.key\n',
    );
    const short = startRelayProcess(path);
    expect(await short.exited).toBe(1);
    expect(short.lines.at(-1)?.message).toMatch(/HMAC key is shorter than 32 characters/);
  });
});

describe('shipped examples', () => {
  it('the README builds for, and asks for, the Node major the project runs (package.json engines)', () => {
    const engines = JSON.parse(readFileSync('package.json', 'utf8')).engines.node as string;
    const major = /\d+/.exec(engines)?.[0];
    expect(README_TARGET).toBe(`node${major}`);
    expect(readFileSync('infra/relay/README.md', 'utf8')).toContain(`Node.js ${major}`);
  });

  it('infra/relay/examples/relay.yaml and inventory.yaml are valid', () => {
    const config = loadRelayConfig('infra/relay/examples/relay.yaml');
    expect(config.inventoryFile).toMatch(/infra\/relay\/examples\/inventory\.yaml$/);
    expect(() => assertSafeListen(config)).not.toThrow();
    expect(Object.keys(loadInventory(config.inventoryFile).hosts)).toEqual([
      'compute-1',
      'compute-2',
      'lab-compute-3',
    ]);
    expect(() =>
      assertSafeListen(
        relayConfigSchema.parse({
          listen: { host: '10.0.0.1' },
          inventoryFile: 'x',
          keys: [{ id: 'a', env: 'K' }],
        }),
      ),
    ).toThrow(/refusing plain HTTP/);
  });
});
