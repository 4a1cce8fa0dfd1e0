// `freezer-dr serve` (npm start): the whole job on one machine. The webhook, a local Step
// Functions endpoint running the real ASL on the embedded engine, and the executions
// page, on 127.0.0.1; executions kept on disk and re-driven if the last run died mid-way.
// Active/passive: only the holder of the data directory's lease (engine/serve-lease.ts)
// serves and re-drives; another instance waits passive and takes over when it dies.
import { join } from 'node:path';
import { configPath, type FreezerConfig, loadConfigFile } from '../../core/config.js';
import { persistSimulatedState } from '../../drivers/cloud/simulated/persistence.js';
import { ExecutionStore } from '../../engine/execution-store.js';
import { type LocalApiToken, localApiToken } from '../../engine/local-api-token.js';
import { isLoopback, type LocalConfig, localConfig } from '../../engine/local-config.js';
import type { EngineEvent } from '../../engine/local-engine.js';
import { LocalExecutions } from '../../engine/local-executions.js';
import { type LocalServer, startLocalServer } from '../../engine/local-server.js';
import { createRuntime, type LocalRuntime } from '../../engine/runtime.js';
import { describeHolder, ServeLease } from '../../engine/serve-lease.js';
import { type WebhookToken, webhookToken } from '../../engine/webhook-token.js';
import { executionEndLine, progressPrinter } from '../progress.js';
import { consoleEchoLogger } from '../serve-console.js';

export interface ServeOptions {
  port?: string;
  host?: string;
  dataDir?: string;
}

const say = (line = '') => process.stdout.write(`${line}\n`);
/** How often a passive instance looks at the lease (a dead holder on this machine is seen within this). */
const PASSIVE_POLL_MS = 1000;

interface Stack {
  rt: LocalRuntime;
  store: ExecutionStore;
  executions: LocalExecutions;
  server: LocalServer;
  token: WebhookToken | null;
  apiToken: LocalApiToken;
  simNote: string | null;
  stopping: boolean;
  close(): Promise<void>;
}

/** Progress lines per execution, prefixed with its name (the step functions' own logs stay at WARN). */
function progressByExecution() {
  const printers = new Map<string, (event: EngineEvent) => void>();
  return (name: string, event: EngineEvent) => {
    if (
      event.type === 'ExecutionSucceeded' ||
      event.type === 'ExecutionFailed' ||
      event.type === 'ExecutionAborted'
    ) {
      say(`[${name}] ${executionEndLine(event)}`);
      printers.delete(name);
      return;
    }
    let print = printers.get(name);
    if (!print) {
      print = progressPrinter((line) => say(`[${name}] ${line}`));
      printers.set(name, print);
    }
    print(event);
  };
}

/** Builds everything in order; whatever was started is closed again if a later step fails. */
async function openStack(config: FreezerConfig, local: LocalConfig): Promise<Stack> {
  const opened: (() => unknown)[] = [];
  const close = async () => {
    for (const step of opened.reverse()) await step();
  };
  try {
    const rt = await createRuntime(config, { logger: consoleEchoLogger(say) });
    opened.push(() => rt.simulated?.close());
    let simNote: string | null = null;
    if (rt.simulated) {
      const file = join(local.dataDir, 'simulated-cloud.json');
      const { restored } = persistSimulatedState(rt.simulated.state, file);
      const { hosts, servers } = rt.simulated.state;
      simNote = `${[...hosts.keys()].join(', ')} with ${servers.size} instances; state ${restored ? 'restored from' : 'kept in'} ${file}`;
    }
    const store = new ExecutionStore(local.dataDir);
    opened.push(() => store.close());
    const stack = { stopping: false } as Stack;
    const executions = new LocalExecutions({
      store,
      runtime: async () => rt,
      ...(local.retryIntervalMs === null ? {} : { retryIntervalMs: local.retryIntervalMs }),
      onEvent: progressByExecution(),
      // After a stop the store is closed while steps still finish: the next start redoes them.
      onStoreError: (error, name) => {
        if (!stack.stopping)
          process.stderr.write(`freezer-dr: cannot record an event of ${name}: ${error.message}\n`);
      },
    });
    // A drain whose host dies hands it to the recovery in this same process.
    rt.recoveries = executions.api('recovery');
    const token = await webhookToken(config, local.dataDir);
    const apiToken = (await localApiToken(config, local.dataDir)) as LocalApiToken;
    const server = await startLocalServer({
      host: local.host,
      port: local.port,
      runtime: rt,
      executions,
      webhookEnv: token?.env ?? process.env,
      apiToken,
    });
    opened.push(() => server.close());
    return Object.assign(stack, { rt, store, executions, server, token, apiToken, simNote, close });
  } catch (error) {
    await close();
    throw error;
  }
}

/** Waits, passive (serving and re-driving nothing), until this instance holds the lease. */
async function becomeActive(lease: ServeLease, local: LocalConfig): Promise<void> {
  let shown: string | null = null;
  for (;;) {
    const attempt = lease.tryAcquire();
    if (attempt.taken) {
      if (attempt.previous) {
        say(
          `freezer-dr serve: taking over ${local.dataDir} from ${describeHolder(attempt.previous.holder)}: ${attempt.previous.why}`,
        );
      }
      return;
    }
    if (attempt.holder.id !== shown) {
      shown = attempt.holder.id;
      say(
        `freezer-dr serve: passive: ${local.dataDir} is held by ${describeHolder(attempt.holder)}. This instance serves and re-drives nothing; it takes over when that one stops (its lease expires ${local.leaseSeconds} s after its last renewal; at once if its process is gone)`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, PASSIVE_POLL_MS));
  }
}

/** Renews the lease; an instance that finds it lost (it stalled past leaseSeconds) exits at once. */
function keepLease(lease: ServeLease, local: LocalConfig): NodeJS.Timeout {
  return setInterval(
    () => {
      let held: boolean;
      try {
        held = lease.renew();
      } catch (error) {
        process.stderr.write(`freezer-dr serve: cannot renew the lease: ${(error as Error).message}\n`);
        return;
      }
      if (held) return;
      const holder = lease.holder();
      process.stderr.write(
        `freezer-dr serve: lost the lease on ${local.dataDir}${holder ? ` to ${describeHolder(holder)}` : ''}; exiting now so that only one instance acts\n`,
      );
      process.exit(1);
    },
    (local.leaseSeconds * 1000) / 3,
  );
}

function printBanner(
  stack: Stack,
  local: LocalConfig,
  path: string,
  redriven: { name: string; from: string }[],
): void {
  const { rt, server, token, executions, store } = stack;
  const url = server.url;
  say(`freezer-dr serve: ready in ${process.uptime().toFixed(1)} s (config ${path})`);
  if (stack.simNote) say(`  *** SIMULATED cloud (cloud.driver: simulated): ${stack.simNote} ***`);
  else say(`  cloud: ${rt.cloud.kind}; fencer: ${rt.fencer.kind}`);
  say(
    `  webhook             POST ${url}/webhook   (bearer token: ${token?.origin ?? 'none, bearer auth is off'})`,
  );
  say(`  Step Functions API  ${url}   (SFN_ENDPOINT=${url}, stateMachineArn ${executions.stateMachineArn})`);
  say(`  host drain          stateMachineArn ${executions.drainStateMachineArn}`);
  say(`                      StartExecution/StopExecution need the token in ${stack.apiToken.origin}`);
  say(`  executions page     ${url}/executions`);
  say(`  executions store    ${store.path}   (active: another serve on ${local.dataDir} waits passive)`);
  if (rt.simulated) say(`  simulated only      POST ${url}/simulated/fail/<host>   (loopback only)`);
  if (!isLoopback(local.host)) {
    say(
      `  WARNING: bound to ${local.host}; the executions page and Step Functions reads need no token from anyone who reaches it`,
    );
  }
  for (const { name, from } of redriven) {
    say(`  re-driving ${name}, left RUNNING by the last run, from ${from}`);
  }
  say();
  const firstHost = rt.simulated ? ([...rt.simulated.state.hosts.keys()][0] ?? 'compute-1') : '<host>';
  say('Fire a test alert (in another terminal):');
  say(`  npm run freezer-dr -- fire ${firstHost}`);
  if (token?.shell) {
    say('or post one yourself (the generic JSON form):');
    say(
      `  curl -sS -H "Authorization: Bearer ${token.shell}" -H 'content-type: application/json' -d '{"host":"${firstHost}","status":"down","source":"curl"}' ${url}/webhook`,
    );
  }
  say(`Watch it: npm run freezer-dr -- executions watch   (or open ${url}/executions)`);
  say();
}

export async function serveCommand(options: ServeOptions): Promise<void> {
  const path = configPath();
  const config = loadConfigFile(path);
  const local: LocalConfig = {
    ...localConfig(config),
    ...(options.host ? { host: options.host } : {}),
    ...(options.port !== undefined ? { port: Number(options.port) } : {}),
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
  };
  if (!Number.isInteger(local.port) || local.port < 0 || local.port > 65_535) {
    throw new Error(`--port must be a port number, not ${options.port}`);
  }
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

  const lease = new ServeLease(local.dataDir, { ttlMs: local.leaseSeconds * 1000, port: local.port });
  let stack: Stack | null = null;
  let keeping: NodeJS.Timeout | null = null;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    if (keeping) clearInterval(keeping);
    if (stack) {
      stack.stopping = true;
      const running = stack.executions.active().length;
      say(
        `\n${signal}: stopping${running ? `; ${running} running execution(s) resume on the next start` : ''}`,
      );
      await stack.close();
    }
    // Given up only once nothing runs here any more: a passive instance then takes over at once.
    lease.release();
    lease.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));

  await becomeActive(lease, local);
  if (stopping) return;
  try {
    stack = await openStack(config, local);
  } catch (error) {
    lease.release();
    lease.close();
    throw error;
  }
  // Still ours (opening took time): only the holder re-drives what the store left RUNNING.
  if (!lease.renew({ port: Number(new URL(stack.server.url).port), url: stack.server.url })) {
    process.stderr.write(`freezer-dr serve: lost the lease on ${local.dataDir} while starting; exiting\n`);
    process.exit(1);
  }
  keeping = keepLease(lease, local);
  const redriven = stack.executions.redriveInterrupted();
  printBanner(stack, local, path, redriven);
}
