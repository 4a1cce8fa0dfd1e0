// RECORD-ONLY fencer: controls no power at all. For operators who fence by other means
// (a PDU, a STONITH they run elsewhere). Every report says so, loudly, because
// evacuating a host that is still running corrupts shared disks.
import type { Fencer, PowerState } from '../../core/ports.js';

export class RecordOnlyFencer implements Fencer {
  readonly kind = 'noop';
  readonly recordOnly = true;

  describe(host: string): string {
    return `RECORD-ONLY (no power control; ${host} must be fenced by the operator)`;
  }

  async powerStatus(): Promise<PowerState> {
    return 'unknown';
  }

  async powerOff(): Promise<void> {}

  async powerOn(): Promise<void> {}
}
