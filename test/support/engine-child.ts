// An engine process a test can kill: the durable local engine (executions in SQLite,
// re-driven on start) behind the local Step Functions endpoint on 127.0.0.1, acting on a
// simulated cloud and BMCs that live in the test process (Nova over HTTP, the BMCs through
// test/support/bmc-bridge.ts). Told where to die, it SIGKILLs itself there: on entering a
// top-level state (after the event is on disk), or right after the n-th call of a driver
// method returned (the side effect done, its result never recorded).
// Run as: node --import tsx test/support/engine-child.ts, with ENGINE_CHILD_SPEC (JSON).

import { writeSync } from 'node:fs';
import { parseConfig } from '../../core/config.js';
import { MemoryStateStore } from '../../core/intake/state-store.js';
import { createLogger } from '../../core/logger.js';
import type { Fencer, Notifier, PowerState, RecoveryReport } from '../../core/ports.js';
import type { Connection } from '../../drivers/cloud/openstack/credentials.js';
import { OpenStackCloud } from '../../drivers/cloud/openstack/nova.js';
import { ExecutionStore } from '../../engine/execution-store.js';
import { LocalExecutions } from '../../engine/local-executions.js';
import { startLocalServer } from '../../engine/local-server.js';
import type { LocalRuntime } from '../../engine/runtime.js';

export interface EngineChildSpec {
  dataDir: string;
  connection: Connection;
  bmcUrl: string;
  recovery: Record<string, unknown>;
  retryIntervalMs: number;
  /** Re-drive what the store holds as RUNNING (what `freezer-dr serve` does on start). */
  redrive: boolean;
  kill?: { state?: string; after?: { method: string; nth: number } } | undefined;
}

const spec = JSON.parse(process.env.ENGINE_CHILD_SPEC ?? '{}') as EngineChildSpec;

function die(where: string): never {
  writeSync(1, `engine-child killed ${where}\n`);
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
}

/** Dies right after the n-th call of `method` on this driver has returned. */
function killAfter<T extends object>(driver: T): T {
  const after = spec.kill?.after;
  if (!after) return driver;
  let calls = 0;
  return new Proxy(driver, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property !== after.method || typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const result = await value.apply(target, args);
        calls += 1;
        if (calls === after.nth) die(`after ${after.method} #${after.nth}`);
        return result;
      };
    },
  });
}

class BridgeFencer implements Fencer {
  readonly kind = 'simulated';
  readonly recordOnly = false;
  describe(host: string): string {
    return `simulated BMC of ${host}`;
  }
  private async call(host: string, method: 'GET' | 'POST', action = ''): Promise<PowerState> {
    const response = await fetch(
      `${spec.bmcUrl}/power/${encodeURIComponent(host)}${action && `/${action}`}`,
      {
        method,
      },
    );
    const body = (await response.json()) as { state?: PowerState; error?: string };
    if (!response.ok) throw new Error(body.error ?? `HTTP ${response.status}`);
    return body.state ?? 'unknown';
  }
  powerStatus(host: string): Promise<PowerState> {
    return this.call(host, 'GET');
  }
  async powerOff(host: string): Promise<void> {
    await this.call(host, 'POST', 'off');
  }
  async powerOn(host: string): Promise<void> {
    await this.call(host, 'POST', 'on');
  }
}

class BridgeNotifier implements Notifier {
  readonly name = 'bridge';
  async notify(report: RecoveryReport): Promise<void> {
    await fetch(`${spec.bmcUrl}/report`, { method: 'POST', body: JSON.stringify(report) });
  }
}

const config = parseConfig({
  cloud: { driver: 'openstack' },
  fencer: { driver: 'noop', iUnderstandHostsAreNotPoweredOff: true },
  recovery: spec.recovery,
});
const rt: LocalRuntime = {
  cloud: killAfter(new OpenStackCloud(spec.connection, { timeoutMs: 5000 })),
  fencer: killAfter(new BridgeFencer()),
  notifiers: [killAfter(new BridgeNotifier())],
  simulated: null,
  config,
  policy: config.recovery,
  state: new MemoryStateStore(),
  logger: createLogger('engine-child'),
};
const store = new ExecutionStore(spec.dataDir);
const executions = new LocalExecutions({
  store,
  runtime: async () => rt,
  retryIntervalMs: spec.retryIntervalMs,
  onEvent: (_name, event) => {
    const entered = event as { type: string; index?: number; state?: { name?: string } };
    if (
      entered.type === 'StateEntered' &&
      entered.index === undefined &&
      entered.state?.name === spec.kill?.state
    ) {
      die(`entering ${spec.kill?.state}`);
    }
  },
});
const server = await startLocalServer({
  host: '127.0.0.1',
  monitors: false,
  port: 0,
  runtime: rt,
  executions,
  webhookEnv: {},
  apiToken: { token: process.env.FREEZER_DR_API_TOKEN ?? '' },
});
const redriven = spec.redrive ? executions.redriveInterrupted() : [];
process.stdout.write(`engine-child ready ${server.url} ${JSON.stringify(redriven)}\n`);
process.once('SIGTERM', () => {
  void server.close().then(() => {
    store.close();
    process.exit(0);
  });
});
