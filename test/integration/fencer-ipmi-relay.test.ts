// The workflow's fence and verify steps (core/fence-host.ts, core/verify-power-off.ts)
// with the ipmi-relay fencer, through the relay, against REAL ipmi_sim BMCs. Power-off
// counts only when a status read says off; every failure names host, BMC and reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import { FENCE_NOT_VERIFIED, WorkflowError } from '../../core/errors.js';
import { fenceHost } from '../../core/fence-host.js';
import { verifyPowerOff } from '../../core/verify-power-off.js';
import { FenceCallError } from '../../drivers/fencer/relay-fencer.js';
import { createRuntime, type LocalRuntime } from '../../engine/runtime.js';
import { type BmcLab, freeUdpPort, startBmcLab } from '../support/bmc-lab.js';
import { captureLogger } from '../support/capture-logger.js';
import { ipmiEntry, type RelayLab, startRelayLab } from '../support/relay-lab.js';

let lab: BmcLab;
let relay: RelayLab;
let rt: LocalRuntime;
const logs = captureLogger();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function runtimeFor(fencer: Record<string, unknown>, verifyTimeoutSeconds = 2): Promise<LocalRuntime> {
  const config = parseConfig({
    cloud: { driver: 'simulated', hosts: ['compute-1'], serversPerHost: 0 },
    fencer,
    recovery: { fence: { verifyTimeoutSeconds, pollIntervalMs: 250 } },
  });
  return createRuntime(config, { logger: logs.logger });
}

/** Runs the FenceHost then VerifyPowerOff steps as the workflow does. */
async function fenceAndVerify(runtime: LocalRuntime, host: string) {
  const started = performance.now();
  const fence = await fenceHost(runtime, { host });
  try {
    const verify = await verifyPowerOff(runtime, { host, offError: fence.offError });
    return { fence, verify, error: null, ms: Math.round(performance.now() - started) };
  } catch (error) {
    return {
      fence,
      verify: null,
      error: error as WorkflowError,
      ms: Math.round(performance.now() - started),
    };
  }
}

beforeAll(async () => {
  lab = await startBmcLab({ count: 4 });
  relay = await startRelayLab(
    {
      'compute-1': ipmiEntry(lab.bmc(0)),
      'compute-lying': ipmiEntry(lab.bmc(1)),
      'compute-slow': ipmiEntry(lab.bmc(2)),
      'compute-crash': ipmiEntry(lab.bmc(3)),
      'compute-wrong-password': ipmiEntry(lab.bmc(0), { passwordFile: undefined, passwordEnv: 'WRONG' }),
      'compute-gone': ipmiEntry(lab.bmc(0), { port: await freeUdpPort() }),
    },
    { env: { WRONG: 'not-it' } },
  );
  rt = await runtimeFor(relay.fencerConfig('ipmi-relay'));
});
afterAll(async () => {
  await rt?.simulated?.close();
  await relay?.close();
  await lab?.stop();
});

describe('fencing through the relay (ipmi-relay fencer)', () => {
  it('is the fencer the registry builds for driver ipmi-relay', () => {
    expect(rt.fencer.kind).toBe('ipmi-relay');
    expect(rt.fencer.recordOnly).toBe(false);
  });

  it('normal fence: off is requested, status reads off, the host process is gone', async () => {
    const bmc = lab.bmc(0);
    expect(bmc.hostRunning()).toBe(true);
    const result = await fenceAndVerify(rt, 'compute-1');
    expect(result.error).toBeNull();
    expect(result.fence).toMatchObject({
      method: 'ipmi-relay',
      before: 'on',
      offRequested: true,
      offError: null,
    });
    expect(result.verify).toMatchObject({ verified: true, polls: 1 });
    expect(bmc.hostRunning()).toBe(false);
    expect(rt.fencer.describe('compute-1')).toBe(
      `ipmi lanplus 127.0.0.1:${bmc.port} via relay ${new URL(relay.url).host}`,
    );
  });

  it('is idempotent: a host already off is not powered off again', async () => {
    const fence = await fenceHost(rt, { host: 'compute-1' });
    expect(fence).toMatchObject({ before: 'off', offRequested: false });
  });
});

// Independent hosts and BMCs: run side by side, since unreachable BMCs cost seconds each.
describe.concurrent('fence failures', () => {
  it('wrong password: the fence fails fast, naming host, BMC and reason', async ({ expect }) => {
    const result = await fenceAndVerify(rt, 'compute-wrong-password');
    expect(result.fence.offError).toMatch(/auth-failed: BMC rejected the credentials/);
    expect(result.error).toBeInstanceOf(WorkflowError);
    expect(result.error?.name).toBe(FENCE_NOT_VERIFIED);
    expect(result.error?.message).toContain('compute-wrong-password');
    expect(result.error?.message).toContain(`ipmi lanplus 127.0.0.1:${lab.bmc(0).port}`);
    expect(result.error?.message).toMatch(/auth-failed.*RAKP 2 HMAC is invalid/);
  });

  it('BMC unreachable: bounded time, a clear error, nothing verified', async ({ expect }) => {
    const result = await fenceAndVerify(rt, 'compute-gone');
    expect(result.fence.before).toBe('unknown');
    expect(result.fence.offError).toMatch(/unreachable: BMC unreachable: .*RMCP\+ session/);
    expect(result.error?.name).toBe(FENCE_NOT_VERIFIED);
    expect(result.error?.message).toMatch(/not verified after 2 s: .*unreachable/);
  });

  it('a BMC that acknowledges off while the host stays on fails the fence (Fence.NotVerified)', async ({
    expect,
  }) => {
    const bmc = lab.bmc(1);
    bmc.setFault({ kind: 'ignore_off' });
    const result = await fenceAndVerify(rt, 'compute-lying');
    expect(result.fence).toMatchObject({ before: 'on', offRequested: true, offError: null });
    expect(result.error?.name).toBe(FENCE_NOT_VERIFIED);
    expect(result.error?.message).toMatch(/compute-lying .*not verified after 2 s: power reads on/);
    expect(bmc.hostRunning()).toBe(true);
  });

  it('a BMC slow to power off is verified after polling', async ({ expect }) => {
    const bmc = lab.bmc(2);
    bmc.setFault({ kind: 'slow_off', seconds: 1 });
    // A verify budget far above the 1 s the BMC takes: a busy machine must not turn slow into failed.
    const patient = await runtimeFor(relay.fencerConfig('ipmi-relay'), 30);
    const result = await fenceAndVerify(patient, 'compute-slow').finally(() => patient.simulated?.close());
    expect(result.error).toBeNull();
    expect(result.verify?.verified).toBe(true);
    expect(result.verify?.polls).toBeGreaterThan(1);
    expect(result.ms).toBeGreaterThan(1000);
    expect(bmc.hostRunning()).toBe(false);
  });

  it('BMC killed mid-off: the off may have run; only a later status read decides', async ({ expect }) => {
    const bmc = lab.bmc(3);
    // The hook stalls 4 s before killing the host; the BMC dies while it stalls.
    bmc.setFault({ kind: 'hang', seconds: 4 });
    const off = rt.fencer.powerOff('compute-crash').then(
      () => null,
      (error: unknown) => error,
    );
    // Kill it once the off has reached the BMC (its hook is stalled inside the off).
    await expect.poll(() => /set power 0/.test(bmc.hookLog()), { timeout: 20_000, interval: 20 }).toBe(true);
    await sleep(200);
    await bmc.kill();
    const offError = await off;
    expect(offError).toBeInstanceOf(FenceCallError);
    expect((offError as FenceCallError).failure).toBe('may-have-run');
    expect((offError as Error).message).toMatch(/Unable to set Chassis Power Control/);

    // BMC still down: no verdict, so no evacuation.
    await expect(
      verifyPowerOff(rt, { host: 'compute-crash', offError: (offError as Error).message }),
    ).rejects.toMatchObject({
      name: FENCE_NOT_VERIFIED,
      message: expect.stringMatching(/unreachable.*may-have-run/),
    });

    // The stalled hook finished on its own: the host WAS powered off, as the restarted BMC reports.
    await expect.poll(() => bmc.hostRunning(), { timeout: 20_000, interval: 100 }).toBe(false);
    bmc.setFault({ kind: 'none' });
    await bmc.start();
    const verify = await verifyPowerOff(rt, { host: 'compute-crash', offError: (offError as Error).message });
    expect(verify.verified).toBe(true);
  });

  it('relay down or wrong key: the fence fails with a relay error, never a guess', async ({ expect }) => {
    const down = await runtimeFor({ ...relay.fencerConfig('ipmi-relay'), url: 'http://127.0.0.1:9' });
    const wrongKey = await runtimeFor({ ...relay.fencerConfig('ipmi-relay'), keyId: 'retired' });
    try {
      const unreachable = await fenceAndVerify(down, 'compute-1');
      expect(unreachable.fence.offError).toMatch(/relay 127\.0\.0\.1:9 unreachable: ECONNREFUSED/);
      expect(unreachable.error?.name).toBe(FENCE_NOT_VERIFIED);
      const refused = await fenceAndVerify(wrongKey, 'compute-1');
      expect(refused.fence.offError).toMatch(
        /HTTP 401 unauthorized \(check the relay key id\/key and the clocks\)/,
      );
      expect(refused.error?.name).toBe(FENCE_NOT_VERIFIED);
    } finally {
      await down.simulated?.close();
      await wrongKey.simulated?.close();
    }
  });
});

describe('secrets', () => {
  it('never logs the BMC password or the relay key', () => {
    const everything = [...logs.lines, ...relay.audit].join('\n');
    expect(logs.lines.length).toBeGreaterThan(0);
    expect(everything).not.toContain(lab.bmc(0).password);
    expect(everything).not.toContain('not-it');
    expect(everything).not.toContain(relay.key.toString());
    for (const run of relay.spawned) expect(run.args.join(' ')).not.toContain(lab.bmc(0).password);
  });
});
