// SIMULATED fencer: drives the simulated cloud's in-memory BMCs, with their injected faults.

import type { Fencer, PowerState } from '../../core/ports.js';
import type { SimulatedCloudState } from '../cloud/simulated/state.js';

export class SimulatedFencer implements Fencer {
  readonly kind = 'simulated';
  readonly recordOnly = false;

  constructor(private readonly state: SimulatedCloudState) {}

  describe(host: string): string {
    return `simulated BMC of ${host}`;
  }

  private check(host: string): void {
    const fault = this.state.host(host).bmcFault;
    if (fault === 'unreachable')
      throw new Error(`BMC of ${host} unreachable: Unable to establish IPMI v2 / RMCP+ session`);
    if (fault === 'auth') throw new Error(`BMC of ${host} rejected the credentials`);
  }

  async powerStatus(host: string): Promise<PowerState> {
    this.check(host);
    return this.state.powerStatus(host);
  }

  async powerOff(host: string): Promise<void> {
    this.check(host);
    await this.state.powerOff(host);
  }

  async powerOn(host: string): Promise<void> {
    this.check(host);
    this.state.powerOn(host);
  }
}
