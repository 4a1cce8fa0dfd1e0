// Each configured wait is bounded where its limit lives: VerifyPowerOff polls for at most
// fence.verifyTimeoutSeconds and VerifyInstance for evacuation.verifyBudgetSeconds, each
// with room left under its Task's timeout (the ASL's TimeoutSeconds and the function's
// own in serverless.yml), so a long setting is refused at load, not cut off mid-recovery.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig, TASK_MARGIN_SECONDS, TASK_TIMEOUT_SECONDS } from '../../core/config.js';
import { loadDefinition } from '../../engine/definition.js';

type State = { Type: string; TimeoutSeconds?: number; ItemProcessor?: { States: Record<string, State> } };

function taskTimeouts(states: Record<string, State>, out = new Map<string, number | undefined>()) {
  for (const [name, state] of Object.entries(states)) {
    if (state.Type === 'Task') out.set(name, state.TimeoutSeconds);
    if (state.ItemProcessor) taskTimeouts(state.ItemProcessor.States, out);
  }
  return out;
}

const config = (recovery: Record<string, unknown>) =>
  parseConfig({ cloud: { driver: 'simulated' }, fencer: { driver: 'simulated' }, recovery });

describe('config bounded under each Task timeout', () => {
  it('knows the timeouts the ASL and serverless.yml give VerifyPowerOff and VerifyInstance', () => {
    const asl = taskTimeouts(loadDefinition().States as Record<string, State>);
    // !Ref and friends are CloudFormation's; read as plain values here.
    const functions = (
      parse(readFileSync('serverless.yml', 'utf8'), { logLevel: 'silent' }) as {
        functions: Record<string, { timeout?: number }>;
      }
    ).functions;
    expect(asl.get('VerifyPowerOff')).toBe(TASK_TIMEOUT_SECONDS.VerifyPowerOff);
    expect(asl.get('VerifyInstance')).toBe(TASK_TIMEOUT_SECONDS.VerifyInstance);
    expect(functions.verifyPowerOff?.timeout).toBe(TASK_TIMEOUT_SECONDS.VerifyPowerOff);
    expect(functions.verifyInstance?.timeout).toBe(TASK_TIMEOUT_SECONDS.VerifyInstance);
  });

  it('refuses a power-off verification longer than VerifyPowerOff can wait', () => {
    const most = TASK_TIMEOUT_SECONDS.VerifyPowerOff - TASK_MARGIN_SECONDS;
    expect(config({ fence: { verifyTimeoutSeconds: most } }).recovery.fence.verifyTimeoutSeconds).toBe(most);
    expect(() => config({ fence: { verifyTimeoutSeconds: most + 1 } })).toThrow(/verifyTimeoutSeconds/);
  });

  it('refuses a verify budget longer than VerifyInstance can poll', () => {
    const most = TASK_TIMEOUT_SECONDS.VerifyInstance - TASK_MARGIN_SECONDS;
    expect(
      config({ evacuation: { verifyBudgetSeconds: most } }).recovery.evacuation.verifyBudgetSeconds,
    ).toBe(most);
    expect(() => config({ evacuation: { verifyBudgetSeconds: most + 1 } })).toThrow(/verifyBudgetSeconds/);
  });

  it('refuses more evacuations at once than the inline Map runs', () => {
    expect(() => config({ evacuation: { maxConcurrency: 41 } })).toThrow(/maxConcurrency/);
  });
});
