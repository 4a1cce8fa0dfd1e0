// A fence that cannot be verified reads failed, with its reason, wherever a person looks:
// the progress lines of `npm start` and `recover` (no "✓ VerifyPowerOff" after its error),
// the line that ends the execution, and `executions list` / `show` (the timeline the page
// and `watch` read too).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { listCommand, showCommand } from '../../cli/commands/executions.js';
import { executionEndLine, progressPrinter } from '../../cli/progress.js';
import { ExecutionStore } from '../../engine/execution-store.js';
import type { EngineEvent } from '../../engine/local-engine.js';
import { stateMachineArn } from '../../engine/local-engine.js';
import { LocalExecutions } from '../../engine/local-executions.js';
import { type LocalServer, startLocalServer } from '../../engine/local-server.js';
import { type Harness, recoveryInput, startHarness } from '../support/harness.js';

const NOT_VERIFIED = /Fence\.NotVerified: power-off of compute-1 \(simulated BMC of compute-1\) not verified/;

let h: Harness;
let dir: string;
let store: ExecutionStore;
let executions: LocalExecutions;
let server: LocalServer;
const events: EngineEvent[] = [];

beforeAll(async () => {
  h = await startHarness();
  dir = mkdtempSync(join(tmpdir(), 'freezer-dr-failed-fence-'));
  store = new ExecutionStore(dir);
  executions = new LocalExecutions({
    store,
    runtime: async () => h.rt,
    retryIntervalMs: 10,
    onEvent: (_name, event) => events.push(event),
    onStoreError: () => undefined,
  });
  server = await startLocalServer({ host: '127.0.0.1', port: 0, runtime: h.rt, executions, webhookEnv: {} });
  h.sim.state.addServer({ host: 'compute-1' });
  h.sim.state.killCompute('compute-1', { reportedAgoMs: 120_000 });
  h.sim.state.host('compute-1').bmcFault = 'ignore-off'; // the BMC acknowledges, the power stays on
  executions.start({
    stateMachineArn,
    name: 'fence-fails',
    input: JSON.stringify(recoveryInput('compute-1')),
  });
  await executions.idle();
});

afterAll(async () => {
  await server?.close();
  store?.close();
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What a CLI command prints, with SFN_ENDPOINT at the test's server. */
async function printed(command: () => Promise<number>): Promise<{ code: number; out: string }> {
  vi.stubEnv('SFN_ENDPOINT', server.url);
  const lines: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    return { code: await command(), out: lines.join('') };
  } finally {
    write.mockRestore();
    vi.unstubAllEnvs();
  }
}

describe('a fence that cannot be verified', () => {
  it('prints VerifyPowerOff as failed with its reason, never as done, and the run as FAILED with why', () => {
    const lines: string[] = [];
    const print = progressPrinter((line) => lines.push(line));
    for (const event of events) print(event);
    const verify = lines.filter((line) => line.includes('VerifyPowerOff'));
    expect(verify).toHaveLength(1);
    expect(verify[0]).toMatch(/✗ VerifyPowerOff failed: /);
    expect(verify[0]).toMatch(NOT_VERIFIED);
    expect(lines.some((line) => /✗ FencingFailed {2}Fence\.NotVerified$/.test(line))).toBe(true);
    expect(lines.join('\n')).not.toMatch(/✓ (MarkHostDown|EvacuateInstances)/);

    const end = events.find((event) => event.type === 'ExecutionFailed') as EngineEvent;
    expect(executionEndLine(end)).toMatch(/^FAILED {2}/);
    expect(executionEndLine(end)).toMatch(NOT_VERIFIED);
    expect(executionEndLine(end)).not.toContain('errorType');
  });

  it('shows the stage failed with the reason in executions show, and the reason in executions list', async () => {
    const shown = await printed(() => showCommand('fence-fails'));
    expect(shown.code).toBe(1);
    const stage = shown.out.split('\n').find((line) => line.includes('VerifyPowerOff')) ?? '';
    expect(stage).toMatch(/✗ VerifyPowerOff/);
    expect(stage).toMatch(
      /power-off of compute-1 \(simulated BMC of compute-1\) not verified .* — Fence\.NotVerified/,
    );
    expect(shown.out).toMatch(/fence-fails {2}host compute-1 {2}FAILED/);
    expect(shown.out).toMatch(new RegExp(`\\n {2}${NOT_VERIFIED.source}`));

    const listed = await printed(() => listCommand({ max: '5' }));
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/REASON/);
    expect(listed.out).toMatch(new RegExp(`fence-fails\\s+compute-1\\s+FAILED\\s.*${NOT_VERIFIED.source}`));
  });
});
