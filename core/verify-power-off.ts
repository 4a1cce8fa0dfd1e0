// Step 3: no evacuation until the power controller reads 'off'. Polls until the
// deadline; a BMC that acknowledged 'off' but keeps reading 'on' fails the fence.
import { FENCE_NOT_VERIFIED, WorkflowError } from './errors.js';
import { countMetric } from './metrics.js';
import type { Runtime } from './runtime.js';
import { nowIso, sleep } from './time.js';

export interface VerifyPowerInput {
  host: string;
  offError?: string | null;
}
export interface VerifyPowerResult {
  verified: boolean;
  recordOnly: boolean;
  polls: number;
  at: string;
}

export async function verifyPowerOff(rt: Runtime, input: VerifyPowerInput): Promise<VerifyPowerResult> {
  const { fencer } = rt;
  if (fencer.recordOnly) {
    return { verified: false, recordOnly: true, polls: 0, at: nowIso() };
  }
  const { verifyTimeoutSeconds, pollIntervalMs } = rt.policy.fence;
  const deadline = Date.now() + verifyTimeoutSeconds * 1000;
  let polls = 0;
  let last = 'no answer';
  for (;;) {
    polls += 1;
    try {
      const state = await fencer.powerStatus(input.host);
      if (state === 'off') {
        countMetric('FenceVerified');
        return { verified: true, recordOnly: false, polls, at: nowIso() };
      }
      last = `power reads ${state}`;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() + pollIntervalMs > deadline) break;
    await sleep(pollIntervalMs);
  }
  const offNote = input.offError ? `; the power-off request had failed: ${input.offError}` : '';
  throw new WorkflowError(
    FENCE_NOT_VERIFIED,
    `power-off of ${input.host} (${fencer.describe(input.host)}) not verified after ${verifyTimeoutSeconds} s: ${last}${offNote}`,
  );
}
