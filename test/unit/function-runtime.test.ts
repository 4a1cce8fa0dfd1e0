// A deployed function's runtime holds the driver kinds its step uses and no others:
// touching another kind names it, and a mistake in another kind's section cannot stop
// this step (check-config validates every section).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../core/config.js';
import { cloudDrivers } from '../../drivers/cloud/registry.js';
import { fencerDrivers } from '../../drivers/fencer/registry.js';
import { validateDriverSections } from '../../drivers/registry.js';
import { functionRuntime } from '../../functions/lib/function-runtime.js';

const dir = mkdtempSync(join(tmpdir(), 'freezer-dr-function-runtime-'));
const saved = process.env.FREEZER_DR_CONFIG;
afterAll(() => {
  process.env.FREEZER_DR_CONFIG = saved;
  rmSync(dir, { recursive: true, force: true });
});

function useConfig(config: Record<string, unknown>): Record<string, unknown> {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, stringify(config));
  process.env.FREEZER_DR_CONFIG = file;
  return config;
}

const recordOnly = { driver: 'noop', iUnderstandHostsAreNotPoweredOff: true };

describe('functionRuntime', () => {
  beforeEach(() => {
    process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
  });

  it('builds only the kinds asked for; the others fail loudly when touched', async () => {
    useConfig({ cloud: { driver: 'openstack', cloud: 'nowhere' }, fencer: recordOnly });
    const rt = await functionRuntime({ fencer: fencerDrivers })();
    expect(rt.fencer.kind).toBe('noop');
    expect(() => rt.cloud.listComputeServices()).toThrow('this function does not load cloud drivers');
    expect(() => rt.notifiers.length).toThrow('this function does not load notifier drivers');
    expect({ ...rt, logger: null }.fencer).toBe(rt.fencer); // spreading a runtime touches nothing
  });

  it('ignores sections of kinds it does not load, which check-config still refuses', async () => {
    const config = useConfig({
      cloud: { driver: 'simulated' },
      fencer: recordOnly,
      notifiers: [{ driver: 'emial' }],
    });
    await expect(functionRuntime({ fencer: fencerDrivers })()).resolves.toBeDefined();
    expect(() => validateDriverSections(parseConfig(config))).toThrow(
      'notifiers[0].driver "emial" is unknown',
    );
    await expect(functionRuntime({ cloud: cloudDrivers })()).rejects.toThrow(
      'cloud.driver "simulated" runs only in the embedded engine',
    );
  });

  it('refuses its own kinds` mistakes, and builds again on the next call', async () => {
    useConfig({ cloud: { driver: 'simulated' }, fencer: { driver: 'noop' } });
    const provider = functionRuntime({ fencer: fencerDrivers });
    await expect(provider()).rejects.toThrow(/fencer \(noop\): iUnderstandHostsAreNotPoweredOff/);
    useConfig({ cloud: { driver: 'simulated' }, fencer: recordOnly });
    await expect(provider()).resolves.toMatchObject({ fencer: { kind: 'noop' } });
  });
});
