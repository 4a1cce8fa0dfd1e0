// Fencers that act through the bastion relay: ipmi-relay (the default), redfish-relay and
// libvirt-relay. They differ only in the controller kind the relay must have on record for
// a host, which the relay checks before acting, so a host listed under the wrong kind is
// refused instead of being powered by a mechanism the operator did not choose.

import { FENCE_FAILED, WorkflowError } from '../../core/errors.js';
import type { DrillProbe, Fencer, InventoryDrill, PowerState } from '../../core/ports.js';
import {
  type ControllerKind,
  type FailureClass,
  type HostPowerAnswer,
  isValidHostName,
  type PowerAction,
  powerPath,
} from '../../infra/relay/protocol.js';
import { RelayCallError, type RelayClient } from './relay-client.js';

/** A failed call: `failure` is the relay's class for a BMC failure, or `relay` when the relay itself failed. */
export class FenceCallError extends WorkflowError {
  constructor(
    message: string,
    readonly failure: FailureClass | 'relay',
  ) {
    super(FENCE_FAILED, message);
  }
}

export class RelayFencer implements Fencer, InventoryDrill {
  readonly recordOnly = false;
  /** Controller descriptions learnt from the relay, so reports name the BMC. */
  private readonly controllers = new Map<string, string>();

  constructor(
    readonly kind: string,
    private readonly controllerKind: ControllerKind,
    private readonly client: RelayClient,
  ) {}

  /**
   * Learns which BMC controls each host (one cheap call, no BMC touched), so that even the
   * first report of a fresh container names the BMC. Best effort: a relay that is down now
   * fails the power calls later, with their own clear errors.
   */
  async loadControllers(timeoutMs: number): Promise<void> {
    try {
      for (const entry of await this.client.listing(timeoutMs))
        this.controllers.set(entry.host, entry.controller);
    } catch {
      // Reports fall back to "<kind> controller of <host>" until a power call answers.
    }
  }

  describe(host: string): string {
    const controller = this.controllers.get(host) ?? `${this.controllerKind} controller of ${host}`;
    return `${controller} via relay ${this.client.origin}`;
  }

  async powerStatus(host: string): Promise<PowerState> {
    const answer = await this.call(host, 'GET');
    return answer.state ?? 'unknown';
  }

  async powerOff(host: string): Promise<void> {
    await this.call(host, 'POST', 'off');
  }

  async powerOn(host: string): Promise<void> {
    await this.call(host, 'POST', 'on');
  }

  /** Every host in the relay's inventory, whatever its kind: the fence drill checks them all. */
  async drillInventory(): Promise<DrillProbe[]> {
    const hosts = await this.client.inventoryStatus();
    return hosts.map((answer) => {
      this.controllers.set(answer.host, answer.controller);
      return {
        host: answer.host,
        controller: `${answer.controller} via relay ${this.client.origin}`,
        state: answer.state,
        failure: answer.error?.class ?? null,
        message: answer.error?.message ?? null,
        ms: answer.ms,
      };
    });
  }

  private async call(host: string, method: 'GET' | 'POST', action?: PowerAction): Promise<HostPowerAnswer> {
    // Checked here too, so a bad name never leaves this process.
    if (!isValidHostName(host))
      throw new FenceCallError(`invalid host name ${JSON.stringify(host)}`, 'relay');
    const what = action ? `power ${action}` : 'power status';
    let answer: HostPowerAnswer;
    try {
      answer = await this.client.hostCall(method, `${powerPath(host, action)}?kind=${this.controllerKind}`);
    } catch (error) {
      const message = error instanceof RelayCallError ? error.message : (error as Error).message;
      throw new FenceCallError(`${what} of ${host} (${this.describe(host)}) failed: ${message}`, 'relay');
    }
    // The MAC ties the answer to this request; a relay answering about something else is broken.
    const asked = action ?? 'status';
    if (answer.host !== host || answer.action !== asked || answer.kind !== this.controllerKind) {
      throw new FenceCallError(
        `${what} of ${host} failed: relay ${this.client.origin} answered for ${answer.host} ${answer.action} (${answer.kind})`,
        'relay',
      );
    }
    this.controllers.set(host, answer.controller);
    if (answer.error) {
      throw new FenceCallError(
        `${what} of ${host} (${this.describe(host)}) failed: ${answer.error.class}: ${answer.error.message}`,
        answer.error.class,
      );
    }
    return answer;
  }
}
