// Fencing that cannot be verified, on the real lab: the relay's inventory gives
// compute-2's BMC a wrong password and points compute-3 at a UDP port with no BMC. A dead
// compute with such a BMC must leave everything alone (no evacuation, no force-down) and
// tell the admins; a second alert for the host while its recovery runs starts nothing.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../../core/time.js';
import { freeUdpPort } from '../support/bmc-lab.js';
import { computeScript, labCloud } from './lab-env.js';
import { LabNova, until } from './lab-nova.js';
import { ADMINS, type LabStack, startLabStack } from './lab-stack.js';

const nova = new LabNova(labCloud());
const dir = mkdtempSync(join(tmpdir(), 'freezer-dr-lab-failures-'));
let stack: LabStack | null = null;
const servers = new Map<string, string>(); // host -> server id

beforeAll(async () => {
  await nova.healLab();
  const wrongPassword = join(dir, 'wrong-password');
  writeFileSync(wrongPassword, 'not-the-bmc-password\n', { mode: 0o600 });
  stack = await startLabStack({
    recovery: {
      confirm: { staleAfterSeconds: 20 },
      fence: { verifyTimeoutSeconds: 6, pollIntervalMs: 500 },
    },
    bmcOverrides: {
      'compute-2': { passwordFile: wrongPassword },
      'compute-3': { port: await freeUdpPort() },
    },
  });
  const [c2, c3] = await nova.bootActive([
    { name: 'fail-c2', host: 'compute-2', metadata: { HA_Enabled: 'True' } },
    { name: 'fail-c3', host: 'compute-3', metadata: { HA_Enabled: 'True' } },
  ]);
  servers.set('compute-2', c2 as string);
  servers.set('compute-3', c3 as string);
}, 600_000);

afterAll(async () => {
  await stack?.close();
  await nova.healLab();
  rmSync(dir, { recursive: true, force: true });
}, 600_000);

/** Kills the host's nova-compute and sends one alert at once, as a monitor would: it starts the run. */
async function failAndAlert(s: LabStack, host: string): Promise<string> {
  await computeScript('kill', host);
  const { body } = await s.postAlert(host);
  const [outcome] = body.outcomes as { decision: string; executionName: string | null }[];
  expect(outcome?.decision).toBe('started');
  return outcome?.executionName as string;
}

async function expectLeftAlone(s: LabStack, host: string, name: string, failure: string): Promise<void> {
  const done = await until(
    'the run to end',
    async () => {
      const described = await s.describe(name);
      return described.status !== 'RUNNING' ? described : null;
    },
    180_000,
  );
  expect(done.status).toBe('FAILED');
  expect(done.error).toMatch(/^Fence\./);
  expect(done.cause).toContain(host);

  const service = await nova.service(host);
  expect(service).toMatchObject({ forcedDown: false, status: 'enabled' });
  const server = await nova.cloud.getServer(servers.get(host) as string);
  expect(server?.host).toBe(host);
  expect(await nova.evacuationsOf(servers.get(host) as string)).toHaveLength(0);

  // The relay saw the BMC fail in the expected way (its audit line per call).
  const audit = s.relay.audit.map((line) => JSON.parse(line) as { host?: string; outcome?: string });
  expect(audit.filter((a) => a.host === host).map((a) => a.outcome)).toContain(failure);

  const mail = await until(
    `the admins' message about ${host}`,
    async () => s.smtp.messages.find((m) => m.subject.includes(`${host} could not be fenced`)),
    60_000,
  );
  expect(mail.to.sort()).toEqual([...ADMINS].sort());
  expect(mail.text).toContain('nothing was evacuated');
}

describe('fencing failures on the real lab', () => {
  it('BMC refusing the credentials: nothing evacuated, not forced down, admins told; a second alert during the run starts nothing', async () => {
    const s = stack as LabStack;
    const name = await failAndAlert(s, 'compute-2');
    const second = await s.postAlert('compute-2', 'second-monitor');
    expect(second.status).toBe(202);
    const [outcome] = second.body.outcomes as { decision: string; executionName: string }[];
    expect(outcome).toMatchObject({ decision: 'already-handled', executionName: name });
    await expectLeftAlone(s, 'compute-2', name, 'auth-failed');
    // Repeats after the failed run still start nothing for this incident.
    expect((await s.postAlert('compute-2')).body.started).toEqual([]);
    const runs = (await s.listExecutions()).filter((e) => e.name?.startsWith('compute-2--'));
    expect(runs).toHaveLength(1);
    await nova.healHost('compute-2');
  });

  it('BMC unreachable: nothing evacuated, not forced down, admins told', async () => {
    const s = stack as LabStack;
    await sleep(1000);
    const name = await failAndAlert(s, 'compute-3');
    await expectLeftAlone(s, 'compute-3', name, 'unreachable');
    expect((await s.listExecutions()).filter((e) => e.name?.startsWith('compute-3--'))).toHaveLength(1);
    await nova.healHost('compute-3');
  });
});
