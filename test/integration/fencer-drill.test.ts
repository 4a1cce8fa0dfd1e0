// The fence drill: every BMC in the relay inventory is asked for its power status, and
// the report names the ones that are unreachable or reject their credentials. REAL
// ipmi_sim BMCs behind the relay; the scheduled handler is the middy function.
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import { formatDrillReport, runFenceDrill } from '../../core/fence-drill.js';
import { createRuntime, type LocalRuntime } from '../../engine/runtime.js';
import { createHandler } from '../../functions/fence-drill.js';
import { type BmcLab, freeUdpPort, startBmcLab } from '../support/bmc-lab.js';
import { captureLogger } from '../support/capture-logger.js';
import { ipmiEntry, type RelayLab, startRelayLab } from '../support/relay-lab.js';

let lab: BmcLab;
let relay: RelayLab;
let rt: LocalRuntime;
const logs = captureLogger();

const runtimeFor = (fencer: Record<string, unknown>, cloud: Record<string, unknown> = {}) =>
  createRuntime(
    parseConfig({ cloud: { driver: 'simulated', hosts: [], serversPerHost: 0, ...cloud }, fencer }),
    {
      logger: logs.logger,
    },
  );

beforeAll(async () => {
  lab = await startBmcLab({ count: 2 });
  relay = await startRelayLab(
    {
      'compute-1': ipmiEntry(lab.bmc(0)),
      'compute-2': ipmiEntry(lab.bmc(1)),
      'compute-3': ipmiEntry(lab.bmc(1), { passwordFile: undefined, passwordEnv: 'STALE' }),
      'compute-4': ipmiEntry(lab.bmc(1), { port: await freeUdpPort() }),
    },
    { env: { STALE: 'last-years-password' } },
  );
  rt = await runtimeFor(relay.fencerConfig('ipmi-relay'));
});
afterAll(async () => {
  await rt?.simulated?.close();
  await relay?.close();
  await lab?.stop();
});

describe('fence drill through the relay', () => {
  it('reports unreachable and credential-rejecting BMCs, in one relay call', async () => {
    const calls = relay.audit.length;
    const report = await runFenceDrill(rt);
    expect(relay.audit.length).toBe(calls + 1);
    expect(report).toMatchObject({
      fencer: 'ipmi-relay',
      source: 'relay-inventory',
      ok: false,
      error: null,
      counts: { ok: 2, unreachable: 1, 'auth-rejected': 1, failed: 0 },
    });
    const byHost = Object.fromEntries(report.entries.map((e) => [e.host, e]));
    expect(byHost['compute-1']).toMatchObject({ outcome: 'ok', state: 'on' });
    expect(byHost['compute-3']).toMatchObject({
      outcome: 'auth-rejected',
      controller: `ipmi lanplus 127.0.0.1:${lab.bmc(1).port} via relay ${new URL(relay.url).host}`,
      message: expect.stringContaining('RAKP 2 HMAC is invalid'),
    });
    expect(byHost['compute-4']).toMatchObject({ outcome: 'unreachable' });
    expect(byHost['compute-4']?.ms).toEqual(expect.any(Number));

    const text = formatDrillReport(report);
    const lines = text.split('\n');
    expect(lines[0]).toContain('2/4 power controllers answered; 1 unreachable, 1 rejected credentials');
    expect(lines[1]).toMatch(/^auth-rejected +compute-3 /);
    expect(lines[2]).toMatch(/^unreachable +compute-4 /);
    expect(text).not.toContain('last-years-password');

    const warnings = logs.lines.filter((l) => l.includes('power controller not usable'));
    expect(warnings.some((l) => l.includes('compute-3'))).toBe(true);
    expect(warnings.some((l) => l.includes('compute-4'))).toBe(true);
    expect(logs.lines.join('\n')).not.toContain('last-years-password');
  });

  it('runs as the scheduled middy function', async () => {
    const handler = createHandler(async () => rt);
    const report = (await handler({}, {} as Context)) as Awaited<ReturnType<typeof runFenceDrill>>;
    expect(report.counts).toEqual({ ok: 2, unreachable: 1, 'auth-rejected': 1, failed: 0 });
  });

  it('says so when the relay itself cannot be reached or refuses the key', async () => {
    const down = await runtimeFor({ ...relay.fencerConfig('ipmi-relay'), url: 'http://127.0.0.1:9' });
    const badKey = await runtimeFor({ ...relay.fencerConfig('ipmi-relay'), keyId: 'old' });
    try {
      expect(await runFenceDrill(down)).toMatchObject({
        ok: false,
        entries: [],
        error: expect.stringContaining('relay 127.0.0.1:9 unreachable'),
      });
      expect((await runFenceDrill(badKey)).error).toMatch(/HTTP 401 unauthorized/);
    } finally {
      await down.simulated?.close();
      await badKey.simulated?.close();
    }
  });
});

describe('fence drill with other fencers', () => {
  it('asks a fencer without an inventory about every nova-compute host', async () => {
    const sim = await createRuntime(
      parseConfig({
        cloud: { driver: 'simulated', hosts: ['compute-1', 'compute-2', 'compute-3'], serversPerHost: 0 },
        fencer: { driver: 'simulated' },
      }),
      { logger: captureLogger().logger },
    );
    try {
      const state = sim.simulated?.state;
      if (!state) throw new Error('simulated cloud missing');
      state.host('compute-2').bmcFault = 'unreachable';
      state.host('compute-3').bmcFault = 'auth';
      const report = await runFenceDrill(sim);
      expect(report).toMatchObject({ source: 'cloud-hosts', ok: false });
      expect(Object.fromEntries(report.entries.map((e) => [e.host, e.outcome]))).toEqual({
        'compute-1': 'ok',
        'compute-2': 'unreachable',
        'compute-3': 'auth-rejected',
      });
    } finally {
      await sim.simulated?.close();
    }
  });

  it('has nothing to drill for the record-only fencer, and says so', async () => {
    const noop = await runtimeFor({ driver: 'noop', iUnderstandHostsAreNotPoweredOff: true });
    try {
      const report = await runFenceDrill(noop);
      expect(report).toMatchObject({ source: 'none', entries: [] });
      expect(report.summary).toContain('RECORD-ONLY');
    } finally {
      await noop.simulated?.close();
    }
  });
});
