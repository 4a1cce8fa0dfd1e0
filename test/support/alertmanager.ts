// A real Prometheus Alertmanager (Debian's prometheus-alertmanager) for end-to-end tests:
// started from a temp dir on 127.0.0.1 with clustering off, its webhook receiver aimed at
// the test's webhook with bearer auth, stopped by PID. Missing binary = a clear failure.
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CANDIDATES = [
  process.env.ALERTMANAGER_BIN,
  '/usr/bin/prometheus-alertmanager',
  '/usr/bin/alertmanager',
];

export function alertmanagerBinary(): string {
  for (const candidate of CANDIDATES) {
    if (!candidate) continue;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new Error(
    'Prometheus Alertmanager is not installed (looked for /usr/bin/prometheus-alertmanager). ' +
      'Install it with: apt-get install -y prometheus-alertmanager (or set ALERTMANAGER_BIN)',
  );
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface Alertmanager {
  url: string;
  pid: number;
  /** Last lines Alertmanager printed, for failure messages. */
  output(): string;
  postAlerts(alerts: Record<string, unknown>[]): Promise<void>;
  stop(): Promise<void>;
}

export interface AlertmanagerOptions {
  webhookUrl: string;
  token: string;
  groupWait?: string;
  groupInterval?: string;
  repeatInterval?: string;
}

export async function startAlertmanager(options: AlertmanagerOptions): Promise<Alertmanager> {
  const binary = alertmanagerBinary();
  const dir = mkdtempSync(join(tmpdir(), 'freezer-dr-alertmanager-'));
  const tokenFile = join(dir, 'freezer-dr.token');
  writeFileSync(tokenFile, `${options.token}\n`, { mode: 0o600 });
  // The receiver exactly as docs/intake.md shows it, with test timings.
  writeFileSync(
    join(dir, 'alertmanager.yml'),
    `route:
  receiver: freezer-dr
  group_by: [alertname, host]
  group_wait: ${options.groupWait ?? '100ms'}
  group_interval: ${options.groupInterval ?? '1s'}
  repeat_interval: ${options.repeatInterval ?? '2s'}
receivers:
  - name: freezer-dr
    webhook_configs:
      - url: ${options.webhookUrl}
        send_resolved: true
        max_alerts: 200
        http_config:
          authorization:
            type: Bearer
            credentials_file: ${tokenFile}
`,
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    binary,
    [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=info',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      process.kill(child.pid, 'SIGTERM');
      const timer = setTimeout(
        () => child.pid && child.exitCode === null && process.kill(child.pid, 'SIGKILL'),
        5000,
      );
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Ready when /-/ready answers; bounded wait.
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`Alertmanager exited with ${child.exitCode}:\n${output}`);
    }
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Alertmanager did not become ready on ${url}:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    pid: child.pid ?? 0,
    output: () => output,
    postAlerts: async (alerts) => {
      const res = await fetch(`${url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alerts),
      });
      if (!res.ok) throw new Error(`Alertmanager refused the alerts: ${res.status} ${await res.text()}`);
    },
    stop,
  };
}
