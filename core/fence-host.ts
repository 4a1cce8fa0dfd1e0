// Step 2: ask the power controller to turn the host off. Idempotent: a host whose power
// already reads off is not powered off again. A failed off request is recorded, not
// trusted either way (real BMCs have powered off and still answered an error):
// VerifyPowerOff decides from the power state alone.

import { countMetric } from './metrics.js';
import type { PowerState } from './ports.js';
import type { Runtime } from './runtime.js';
import { nowIso } from './time.js';

export interface FenceInput {
  host: string;
}
export interface FenceResult {
  method: string;
  controller: string;
  recordOnly: boolean;
  before: PowerState;
  offRequested: boolean;
  offError: string | null;
  at: string;
}

export async function fenceHost(rt: Runtime, input: FenceInput): Promise<FenceResult> {
  const { fencer } = rt;
  const base = {
    method: fencer.kind,
    controller: fencer.describe(input.host),
    recordOnly: fencer.recordOnly,
  };
  if (fencer.recordOnly) {
    rt.logger.warn('RECORD-ONLY fencing: power is not controlled by freezer-dr', { host: input.host });
    return { ...base, before: 'unknown', offRequested: false, offError: null, at: nowIso() };
  }
  let before: PowerState = 'unknown';
  try {
    before = await fencer.powerStatus(input.host);
  } catch (error) {
    rt.logger.warn('power status before fencing failed', {
      host: input.host,
      error: (error as Error).message,
    });
  }
  if (before === 'off') {
    return { ...base, before, offRequested: false, offError: null, at: nowIso() };
  }
  let offError: string | null = null;
  countMetric('FencePowerOffRequested');
  try {
    await fencer.powerOff(input.host);
  } catch (error) {
    offError = (error as Error).message;
    rt.logger.warn('power off request failed; the power state decides', {
      host: input.host,
      error: offError,
    });
  }
  return { ...base, before, offRequested: true, offError, at: nowIso() };
}
