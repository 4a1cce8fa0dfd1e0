// `freezer-dr serve` as a child process (one node process, tsx as a loader, so a kill
// really kills the server), with its own config and data directory, and the CLI run the
// same way. Every process started here is stopped by its PID.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SFNClient } from '@aws-sdk/client-sfn';
import { stringify } from 'yaml';
import { loadConfigFile } from '../../core/config.js';
import { localApiToken } from '../../engine/local-api-token.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = ['--import', 'tsx', 'cli/freezer-dr.ts'];

/** Every child still alive; killed if the test worker exits first (a timed-out test keeps running). */
const alive = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of alive) child.kill('SIGKILL');
});

function track(child: ChildProcess): ChildProcess {
  alive.add(child);
  child.once('exit', () => alive.delete(child));
  return child;
}

export interface ServeDir {
  dir: string;
  configPath: string;
  env: NodeJS.ProcessEnv;
}

/** A data directory and a config using it: simulated cloud, port 0, the given overrides. */
export function serveDir(
  overrides: {
    cloud?: Record<string, unknown>;
    recovery?: Record<string, unknown>;
    intake?: Record<string, unknown>;
    drain?: Record<string, unknown>;
    /** freezer-dr's own monitors; off unless a test is about them (a poll would race its alerts). */
    monitors?: Record<string, unknown>[];
  } = {},
): ServeDir {
  const dir = mkdtempSync(join(tmpdir(), 'freezer-dr-serve-'));
  const config = {
    cloud: {
      driver: 'simulated',
      hosts: ['compute-1', 'compute-2', 'compute-3'],
      serversPerHost: 4,
      ...overrides.cloud,
    },
    fencer: { driver: 'simulated' },
    notifiers: [{ driver: 'log' }],
    monitors: overrides.monitors ?? [],
    recovery: {
      fence: { pollIntervalMs: 50 },
      evacuation: { verifyPollMs: 100 },
      ...overrides.recovery,
    },
    local: { port: 0, dataDir: dir },
    ...(overrides.intake ? { intake: overrides.intake } : {}),
    ...(overrides.drain ? { drain: overrides.drain } : {}),
  };
  const configPath = join(dir, 'freezer-dr.yaml');
  writeFileSync(configPath, stringify(config));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    FREEZER_DR_CONFIG: configPath,
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    FREEZER_DR_WEBHOOK_TOKEN: '',
  };
  delete env.SFN_ENDPOINT;
  delete env.STATE_MACHINE_ARN;
  return { dir, configPath, env };
}

/** A `freezer-dr serve` child, active or not yet (a passive one prints no banner until it takes over). */
export interface ServeChild {
  pid: number;
  output(): string;
  /** Resolves with the first match of `pattern` in the output so far or to come. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** The URL of its banner, once it is serving. */
  ready(timeoutMs?: number): Promise<string>;
  /** A client carrying the server's local token, as the CLI's does. */
  sfn(url: string): SFNClient;
  /** SIGTERM (graceful) or SIGKILL (a crash); resolves when the process is gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export function spawnServe(where: ServeDir): ServeChild {
  const child = track(
    spawn(process.execPath, [...CLI, 'serve'], {
      cwd: ROOT,
      env: where.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let output = '';
  const listeners = new Set<() => void>();
  const heard = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of [...listeners]) listener();
  };
  child.stdout?.on('data', heard);
  child.stderr?.on('data', heard);
  let gone = false;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      gone = true;
      for (const listener of [...listeners]) listener();
      resolve();
    }),
  );
  const clients: SFNClient[] = [];
  // Bounds are safety nets only: a busy 2-core machine takes several times the quiet figures.
  const waitFor = (pattern: RegExp, timeoutMs = 90_000) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`no ${pattern} from serve in ${timeoutMs} ms:\n${output}`));
      }, timeoutMs);
      const check = () => {
        const match = pattern.exec(output);
        if (!match && !gone) return;
        clearTimeout(timer);
        listeners.delete(check);
        if (match) resolve(match);
        else reject(new Error(`serve exited with ${child.exitCode ?? child.signalCode}:\n${output}`));
      };
      listeners.add(check);
      check();
    });
  return {
    pid: child.pid as number,
    output: () => output,
    waitFor,
    // The banner ends with the "Watch it" line: wait for all of it.
    ready: async (timeoutMs) => {
      const [, url] = await waitFor(
        /Step Functions API\s+(http:\/\/127\.0\.0\.1:\d+)[\s\S]*Watch it:/,
        timeoutMs,
      );
      return url as string;
    },
    sfn: (url) => {
      const client = new SFNClient({
        endpoint: url,
        region: 'local',
        credentials: async () => {
          const config = loadConfigFile(where.configPath);
          const token = await localApiToken(config, where.dir, where.env, { create: false });
          return { accessKeyId: 'local', secretAccessKey: 'local', sessionToken: token?.token ?? '' };
        },
      });
      clients.push(client);
      return client;
    },
    async stop(signal = 'SIGTERM') {
      for (const client of clients) client.destroy();
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid as number, signal);
      await exited;
    },
  };
}

export interface ServeProcess {
  url: string;
  pid: number;
  /** Milliseconds from spawn to the "ready" banner. */
  readyMs: number;
  output(): string;
  /** A client carrying the server's local token, as the CLI's does. */
  sfn(): SFNClient;
  /** SIGTERM (graceful) or SIGKILL (a crash); resolves when the process is gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export async function startServe(where: ServeDir, timeoutMs = 90_000): Promise<ServeProcess> {
  const started = Date.now();
  const child = spawnServe(where);
  let url: string;
  try {
    url = await child.ready(timeoutMs);
  } catch (error) {
    await child.stop('SIGKILL');
    throw error;
  }
  return {
    url,
    pid: child.pid,
    readyMs: Date.now() - started,
    output: child.output,
    sfn: () => child.sfn(url),
    stop: child.stop,
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** One CLI command against the server at `url`, stdin closed (not a terminal). */
export function runCli(where: ServeDir, url: string, args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = track(
      spawn(process.execPath, [...CLI, ...args], {
        cwd: ROOT,
        env: { ...where.env, FREEZER_DR_URL: url, SFN_ENDPOINT: url },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

export async function until<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
