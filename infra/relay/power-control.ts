// Dispatches a power request to the host's controller and shapes the answer. Calls to
// one host run one at a time, through a short, bounded line where power actions go first
// (host-queue.ts).
import { ControllerError } from './controller-error.js';
import { HostQueue, type HostQueueLimits, QueueRefusalError } from './host-queue.js';
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
  /** Per-host line: calls waiting and how long each may wait (relay.yaml `queue`). */
  queue?: Partial<HostQueueLimits>;
}

/** Defaults of relay.yaml `queue`: a fence is a handful of sequential calls; a longer line is a flood or a stuck BMC. */
export const QUEUE_DEFAULTS: HostQueueLimits = { maxWaiting: 8, maxWaitMs: 10_000 };

export class PowerControl {
  private readonly queue: HostQueue;
  private readonly runner: CommandRunner;
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    private inventory: Inventory,
    private readonly options: PowerControlOptions = {},
  ) {
    this.runner = options.runner ?? runCommand;
    this.env = options.env ?? process.env;
    this.queue = new HostQueue({ ...QUEUE_DEFAULTS, ...options.queue });
  }

  /** Calls waiting for `host`'s turn (the one running not counted). */
  waiting(host: string): number {
    return this.queue.waiting(host);
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

  /**
   * Runs one call when it is the host's turn. A BMC failure is an answer (with its class);
   * a call the line did not run rejects with QueueRefusalError, nothing having been sent.
   * `signal` aborts when the caller has gone: a call still waiting is then dropped.
   */
  async run(host: string, action: RelayAction, signal?: AbortSignal): Promise<HostPowerAnswer> {
    const entry = this.entry(host);
    if (!entry) throw new Error(`unknown host ${host}`);
    const started = performance.now();
    const base = { host, kind: entry.kind, controller: describeController(entry), action };
    try {
      const state = await this.queue.run(
        host,
        action !== 'status',
        () => this.dispatch(host, entry, action),
        signal,
      );
      return { ...base, state, error: null, ms: Math.round(performance.now() - started) };
    } catch (error) {
      if (error instanceof QueueRefusalError) throw error;
      const failure =
        error instanceof ControllerError
          ? { class: error.failure, message: error.message }
          : { class: 'config' as const, message: (error as Error).message };
      return { ...base, state: null, error: failure, ms: Math.round(performance.now() - started) };
    }
  }

  /**
   * Reads every host's power, a few at a time (each unreachable BMC costs seconds). A host
   * whose line turned the read away answers `busy`; once the caller has gone, no more reads start.
   */
  async statusAll(
    concurrency: number,
    kind: InventoryEntry['kind'] | null = null,
    signal?: AbortSignal,
  ): Promise<HostPowerAnswer[]> {
    const hosts = this.hosts().filter((host) => !kind || this.entry(host)?.kind === kind);
    const answers: HostPowerAnswer[] = new Array(hosts.length);
    let next = 0;
    const worker = async () => {
      while (next < hosts.length && !signal?.aborted) {
        const index = next++;
        const host = hosts[index] as string;
        answers[index] = await this.run(host, 'status', signal).catch((error: unknown) => {
          if (!(error instanceof QueueRefusalError)) throw error;
          return this.busy(host, error);
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, hosts.length) }, worker));
    return answers;
  }

  private busy(host: string, refusal: QueueRefusalError): HostPowerAnswer {
    const entry = this.entry(host) as InventoryEntry;
    return {
      host,
      kind: entry.kind,
      controller: describeController(entry),
      action: 'status',
      state: null,
      error: { class: 'busy', message: `not read: ${refusal.reason}: ${refusal.message}` },
      ms: 0,
    };
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
