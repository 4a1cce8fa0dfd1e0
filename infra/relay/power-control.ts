// Dispatches a power request to the host's controller and shapes the answer. Calls to
// one host run one at a time: BMCs handle few sessions, and an `on` racing an `off` on
// the same host must not interleave.
import { ControllerError } from './controller-error.js';
import { describeController, type Inventory, type InventoryEntry } from './inventory.js';
import { ipmiPower } from './ipmitool.js';
import { readSecret } from './key-material.js';
import type { HostPowerAnswer, RelayAction, RelayPowerState } from './protocol.js';
import { redfishAction, redfishStatus } from './redfish.js';
import { type CommandRunner, runCommand } from './run-command.js';
import { virshPower } from './virsh.js';

export interface PowerControlOptions {
  runner?: CommandRunner;
  env?: NodeJS.ProcessEnv;
  ipmitoolPath?: string;
  virshPath?: string;
}

export class PowerControl {
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly runner: CommandRunner;
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    private inventory: Inventory,
    private readonly options: PowerControlOptions = {},
  ) {
    this.runner = options.runner ?? runCommand;
    this.env = options.env ?? process.env;
  }

  /** Swaps in a re-read inventory (SIGHUP); calls in flight finish on the old entries. */
  replaceInventory(inventory: Inventory): void {
    this.inventory = inventory;
  }

  entry(host: string): InventoryEntry | undefined {
    return Object.hasOwn(this.inventory.hosts, host) ? this.inventory.hosts[host] : undefined;
  }

  hosts(): string[] {
    return Object.keys(this.inventory.hosts);
  }

  async run(host: string, action: RelayAction): Promise<HostPowerAnswer> {
    const entry = this.entry(host);
    if (!entry) throw new Error(`unknown host ${host}`);
    const started = performance.now();
    const base = { host, kind: entry.kind, controller: describeController(entry), action };
    try {
      const state = await this.serialized(host, () => this.dispatch(host, entry, action));
      return { ...base, state, error: null, ms: Math.round(performance.now() - started) };
    } catch (error) {
      const failure =
        error instanceof ControllerError
          ? { class: error.failure, message: error.message }
          : { class: 'config' as const, message: (error as Error).message };
      return { ...base, state: null, error: failure, ms: Math.round(performance.now() - started) };
    }
  }

  /** Reads every host's power, a few at a time (each unreachable BMC costs seconds). */
  async statusAll(
    concurrency: number,
    kind: InventoryEntry['kind'] | null = null,
  ): Promise<HostPowerAnswer[]> {
    const hosts = this.hosts().filter((host) => !kind || this.entry(host)?.kind === kind);
    const answers: HostPowerAnswer[] = new Array(hosts.length);
    let next = 0;
    const worker = async () => {
      while (next < hosts.length) {
        const index = next++;
        answers[index] = await this.run(hosts[index] as string, 'status');
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, hosts.length) }, worker));
    return answers;
  }

  private serialized<T>(host: string, task: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(host) ?? Promise.resolve();
    const current = previous.then(task, task);
    const settled = current.catch(() => undefined);
    this.queues.set(host, settled);
    void settled.then(() => {
      if (this.queues.get(host) === settled) this.queues.delete(host);
    });
    return current;
  }

  private async dispatch(
    host: string,
    entry: InventoryEntry,
    action: RelayAction,
  ): Promise<RelayPowerState | null> {
    switch (entry.kind) {
      case 'ipmi': {
        const password = this.password(entry, host);
        return ipmiPower(entry, action, {
          runner: this.runner,
          ipmitoolPath: this.options.ipmitoolPath ?? 'ipmitool',
          password,
        });
      }
      case 'redfish': {
        const password = this.password(entry, host);
        return action === 'status' ? redfishStatus(entry, password) : redfishAction(entry, password, action);
      }
      case 'libvirt':
        return virshPower(entry, entry.domain ?? host, action, {
          runner: this.runner,
          virshPath: this.options.virshPath ?? 'virsh',
          home: this.env.HOME,
        });
    }
  }

  private password(
    entry: { passwordFile?: string | undefined; passwordEnv?: string | undefined },
    host: string,
  ) {
    try {
      return readSecret(
        { file: entry.passwordFile, env: entry.passwordEnv },
        this.env,
        `BMC password of ${host}`,
      );
    } catch (error) {
      throw new ControllerError('config', (error as Error).message);
    }
  }
}
