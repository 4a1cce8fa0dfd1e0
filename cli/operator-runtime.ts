// The runtime the operator commands (hosts, plan, restore) act through. A real cloud: the
// configured drivers, as the workflow uses them. The simulated cloud: the one living inside
// the running `freezer-dr serve`, reached through its Nova API and its local-only BMC
// routes, so these commands see the same failed host the server recovered.

import type { FreezerConfig } from '../core/config.js';
import { MemoryStateStore } from '../core/intake/state-store.js';
import { createLogger } from '../core/logger.js';
import type { Fencer, PowerState } from '../core/ports.js';
import type { Connection } from '../drivers/cloud/openstack/credentials.js';
import { OpenStackCloud } from '../drivers/cloud/openstack/nova.js';
import { requestJson } from '../drivers/http-json.js';
import { localConfig, localUrl } from '../engine/local-config.js';
import { createRuntime, type LocalRuntime } from '../engine/runtime.js';
import { CliError, describeFailure } from './failure.js';

export interface OperatorRuntime {
  rt: LocalRuntime;
  /** Said before acting, so nobody mistakes the simulated cloud for a real one. */
  banner: string | null;
  close(): Promise<void>;
}

/** SIMULATED BMCs behind `serve`'s /simulated/power routes. */
class ServedSimulatedFencer implements Fencer {
  readonly kind = 'simulated';
  readonly recordOnly = false;

  constructor(
    private readonly base: string,
    private readonly hosts: Set<string>,
  ) {}

  describe(host: string): string {
    return this.hosts.has(host) ? `simulated BMC of ${host}` : `no simulated BMC for ${host}`;
  }

  private async call(host: string, method: 'GET' | 'POST', action = ''): Promise<PowerState> {
    const path = `/simulated/power/${encodeURIComponent(host)}${action ? `/${action}` : ''}`;
    const response = await requestJson<{ power?: PowerState; error?: string }>(`${this.base}${path}`, {
      method,
      anyStatus: true,
      timeoutMs: 30_000,
    });
    if (response.status < 200 || response.status >= 300)
      throw new Error(response.data.error ?? `HTTP ${response.status}`);
    return response.data.power ?? 'unknown';
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

export async function operatorRuntime(config: FreezerConfig): Promise<OperatorRuntime> {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  if (config.cloud.driver !== 'simulated') {
    const rt = await createRuntime(config);
    return { rt, banner: null, close: async () => undefined };
  }
  const base = localUrl(localConfig(config));
  let served: { connection: Connection; hosts: string[] };
  try {
    served = (await requestJson<typeof served>(`${base}/simulated/connection`, { timeoutMs: 30_000 })).data;
  } catch (error) {
    throw new CliError(
      `the simulated cloud lives inside \`freezer-dr serve\`: ${describeFailure(error, base)}`,
    );
  }
  const rt: LocalRuntime = {
    cloud: new OpenStackCloud(served.connection),
    fencer: new ServedSimulatedFencer(base, new Set(served.hosts)),
    notifiers: [],
    simulated: null,
    config,
    policy: config.recovery,
    state: new MemoryStateStore(),
    logger: createLogger('freezer-dr-cli'),
  };
  return {
    rt,
    banner: `*** SIMULATED cloud inside freezer-dr serve at ${base} (cloud.driver: simulated) ***`,
    close: async () => undefined,
  };
}
