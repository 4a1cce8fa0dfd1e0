// The notifier sections as an operator writes them: the example in docs/notifications.md
// validates against the registry's schemas, mistakes are refused at load, and a
// missing secret fails the notification later, never the creation of the drivers.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../../core/config.js';
import { createDrivers, notifierDrivers, validateDriverSections } from '../../drivers/registry.js';
import { quietLogger } from '../support/harness.js';

const docExample = () => {
  const markdown = readFileSync(new URL('../../docs/notifications.md', import.meta.url), 'utf8');
  const block = /```yaml\n([\s\S]*?)```/.exec(markdown)?.[1] ?? '';
  return (parseYaml(block) as { notifiers: { driver: string }[] }).notifiers;
};

const base = { cloud: { driver: 'simulated' }, fencer: { driver: 'simulated' } };

describe('notifier configuration', () => {
  it('accepts the documented example', () => {
    const notifiers = docExample();
    expect(notifiers.map((n) => n.driver)).toEqual(['log', 'email', 'slack', 'webhook']);
    expect(() => validateDriverSections(parseConfig({ ...base, notifiers }))).not.toThrow();
  });

  it('refuses mistakes at load', () => {
    const email = notifierDrivers.email?.schema;
    const valid = { driver: 'email', from: 'f@x.example', admins: ['a@x.example'], smtp: { host: 'smtp' } };
    expect(email?.safeParse(valid).success).toBe(true);
    const bad = [
      { ...valid, admins: [] },
      { ...valid, admins: ['not an address'] },
      { ...valid, smtp: { host: 'smtp', security: 'ssl' } },
      { ...valid, smtp: { host: 'smtp', auth: { user: 'u', password: 'inline-secret' } } },
      { ...valid, smtp: { host: 'smtp', auth: { user: 'u', password: { file: '/a', env: 'B' } } } },
      { ...valid, tenants: { kinds: ['recovered'] } },
      { ...valid, timeZone: 'Mars/Olympus' },
      { ...valid, templatesDir: '/x' },
    ];
    for (const section of bad) expect(email?.safeParse(section).success, JSON.stringify(section)).toBe(false);
    expect(notifierDrivers.webhook?.schema.safeParse({ driver: 'webhook' }).success).toBe(false);
  });

  it('creates the notifiers even when their secrets are missing (they fail when used, not at start)', async () => {
    const config = parseConfig({ ...base, notifiers: docExample() });
    const drivers = await createDrivers(config, { logger: quietLogger(), env: {} });
    try {
      expect(drivers.notifiers.map((n) => n.name)).toEqual(['log', 'email', 'slack', 'webhook']);
    } finally {
      await drivers.simulated?.close();
    }
  });
});
