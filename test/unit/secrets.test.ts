// One secret reader for every secret: {file}, {env} or {secret} (Secrets Manager), with
// messages that say which secret and where, never its value.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeIssues } from '../../core/config.js';
import { readSecret, secretRef } from '../../core/secrets.js';
import { openstackConnection } from '../../drivers/cloud/openstack/connection-source.js';

const dir = mkdtempSync(join(tmpdir(), 'freezer-dr-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const store = (values: Record<string, string>) => async (id: string) => values[id];

describe('secret references', () => {
  it('name exactly one source', () => {
    for (const ref of [{ file: '/a' }, { env: 'A' }, { secret: 'x', field: 'password' }])
      expect(secretRef.safeParse(ref).success, JSON.stringify(ref)).toBe(true);
    const two = secretRef.safeParse({ file: '/a', env: 'A' });
    expect(two.success).toBe(false);
    expect(describeIssues(two.error ?? { issues: [] })).toBe(
      '(root): set exactly one of file, env or secret',
    );
    expect(describeIssues(secretRef.safeParse({ value: 'inline' }).error ?? { issues: [] })).toMatch(
      /Unrecognized key: "value"/,
    );
  });

  it('reads a file without its trailing newline, a variable, and a Secrets Manager value or its JSON field', async () => {
    const file = join(dir, 'token');
    writeFileSync(file, 'from-a-file\n');
    expect(await readSecret({ file }, { what: 'token' })).toBe('from-a-file');
    expect(await readSecret({ env: 'TOKEN' }, { what: 'token', env: { TOKEN: 'from-env' } })).toBe(
      'from-env',
    );
    const secretsManager = store({ plain: 'from-store', json: '{"password":"p1","other":"p2"}' });
    expect(await readSecret({ secret: 'plain' }, { what: 't', field: 'password', secretsManager })).toBe(
      'from-store',
    );
    expect(await readSecret({ secret: 'json' }, { what: 't', field: 'password', secretsManager })).toBe('p1');
    expect(
      await readSecret({ secret: 'json', field: 'other' }, { what: 't', field: 'password', secretsManager }),
    ).toBe('p2');
  });

  it('says what is missing and where, never the value', async () => {
    const secretsManager = store({ json: '{"password":"do-not-print"}' });
    await expect(readSecret({ env: 'NOPE' }, { what: 'SMTP password', env: {} })).rejects.toThrow(
      'SMTP password: environment variable NOPE is not set',
    );
    await expect(readSecret({ file: join(dir, 'none') }, { what: 'relay HMAC key' })).rejects.toThrow(
      /^relay HMAC key: cannot read .*none \(ENOENT\)$/,
    );
    const wrongField = readSecret({ secret: 'json' }, { what: 'token', field: 'token', secretsManager });
    await expect(wrongField).rejects.toThrow(
      'token: Secrets Manager secret json is JSON without a "token" string',
    );
    await expect(wrongField).rejects.not.toThrow(/do-not-print/);
    const unreachable = readSecret(
      { secret: 'x' },
      {
        what: 'clouds.yaml',
        secretsManager: async () => {
          throw Object.assign(new Error('connect ETIMEDOUT'), { name: 'TimeoutError' });
        },
      },
    );
    await expect(unreachable).rejects.toMatchObject({ retryable: true, name: 'SecretUnavailable' });
  });
});

describe('OpenStack credentials', () => {
  const clouds = `clouds:\n  prod:\n    auth:\n      auth_url: https://keystone.example.org/v3\n      username: freezer\n      password: s3cret\n      project_name: admin\n    region_name: RegionOne\n`;

  it('come from the secret OPENSTACK_SECRET_ID names when the config names none (the only cloud in it)', async () => {
    const connection = await openstackConnection(
      {},
      {
        env: { OPENSTACK_SECRET_ID: 'freezer-dr/openstack' },
        secretsManager: store({ 'freezer-dr/openstack': clouds }),
      },
    );
    expect(connection).toMatchObject({ authType: 'password', region: 'RegionOne' });
    expect(connection.auth.auth_url).toBe('https://keystone.example.org/v3');
  });

  it('come from the config`s clouds reference first, and a missing one fails as a config error', async () => {
    const file = join(dir, 'clouds.yaml');
    writeFileSync(file, clouds);
    const connection = await openstackConnection({ clouds: { file }, cloud: 'prod' }, { env: {} });
    expect(connection.auth.username).toBe('freezer');
    await expect(openstackConnection({ clouds: { file }, cloud: 'other' }, { env: {} })).rejects.toThrow(
      'cloud "other" is not in the given clouds.yaml',
    );
    await expect(
      openstackConnection({ clouds: { secret: 'gone' } }, { env: {}, secretsManager: store({}) }),
    ).rejects.toMatchObject({ name: 'Config.Invalid' });
  });

  it('a clouds.yaml that does not parse says where, never what: an unquoted password is not echoed', async () => {
    for (const password of ['*s3cret-alias', '!s3cret-tag']) {
      const text = `clouds:\n  prod:\n    auth:\n      auth_url: https://keystone.example.org/v3\n      username: freezer\n      password: ${password}\n`;
      const error = await openstackConnection(
        { clouds: { env: 'CLOUDS' }, cloud: 'prod' },
        { env: { CLOUDS: text } },
      ).catch((e: Error) => e);
      expect(error).toMatchObject({ name: 'Config.Invalid' });
      expect((error as Error).message).toMatch(/invalid YAML at line \d+, column \d+/);
      expect((error as Error).message).not.toContain('s3cret');
    }
  });
});
