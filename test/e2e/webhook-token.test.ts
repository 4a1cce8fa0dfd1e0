// The token `npm start` accepts on its webhook: a configured token too short for the intake
// stops the server from starting, naming where it is and the minimum (the intake would
// ignore it, and every alert carrying it would get 401); an unset variable gets a
// generated token instead.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.js';
import { webhookToken } from '../../engine/webhook-token.js';
import { type ServeDir, serveDir, startServe } from '../support/serve-process.js';

const SHORT = 'abcdefghijklm'; // 13 characters
const LONG = 'abcdefghijklmnopqrstuvwx';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'freezer-dr-token-'));
  dirs.push(dir);
  return dir;
}

const configWith = (bearer: Record<string, unknown>) =>
  parseConfig({
    cloud: { driver: 'simulated' },
    fencer: { driver: 'simulated' },
    intake: { auth: { bearer } },
  });

describe('webhook token', () => {
  it('refuses a 13-character token in the configured variable, naming it and the minimum', async () => {
    const dir = scratch();
    await expect(
      webhookToken(configWith({ env: 'MONITOR_TOKEN' }), dir, { MONITOR_TOKEN: SHORT }),
    ).rejects.toThrow(
      /^intake\.auth\.bearer \(variable MONITOR_TOKEN\): the token is shorter than 16 characters, the minimum/,
    );
    expect(existsSync(join(dir, 'webhook-token'))).toBe(false); // no token of its own made instead
  });

  it('refuses a short token in a file, and a short line among a rotation’s tokens', async () => {
    const dir = scratch();
    const file = join(dir, 'token');
    writeFileSync(file, `${SHORT}\n`);
    await expect(webhookToken(configWith({ file }), dir, {})).rejects.toThrow(
      new RegExp(`^intake\\.auth\\.bearer \\(file ${file}\\): the token is shorter than 16 characters`),
    );
    writeFileSync(file, `${LONG}\n${SHORT}\n`);
    await expect(webhookToken(configWith({ file }), dir, {})).rejects.toThrow(
      /line 2 of the token is shorter than 16 characters/,
    );
  });

  it('refuses a short token in a Secrets Manager secret', async () => {
    const secretsManager = async () => JSON.stringify({ token: SHORT });
    await expect(
      webhookToken(
        configWith({ secret: 'freezer-dr/webhook-token' }),
        scratch(),
        {},
        { create: true, secretsManager },
      ),
    ).rejects.toThrow(
      /^intake\.auth\.bearer \(Secrets Manager secret freezer-dr\/webhook-token\): the token is shorter than 16/,
    );
  });

  it('uses a long enough configured token, and makes one when the variable is unset', async () => {
    const dir = scratch();
    const configured = await webhookToken(configWith({ env: 'MONITOR_TOKEN' }), dir, { MONITOR_TOKEN: LONG });
    expect(configured).toMatchObject({ token: LONG, shell: '$MONITOR_TOKEN' });
    const made = await webhookToken(configWith({ env: 'MONITOR_TOKEN' }), dir, {});
    expect(made?.token).toMatch(/^[0-9a-f]{48}$/);
    expect(made?.env.MONITOR_TOKEN).toBe(made?.token);
  });

  it('stops npm start before it listens', async () => {
    const where: ServeDir = serveDir({ intake: { auth: { bearer: { env: 'MONITOR_TOKEN' } } } });
    dirs.push(where.dir);
    where.env.MONITOR_TOKEN = SHORT;
    await expect(startServe(where)).rejects.toThrow(
      /serve exited with 1:[\s\S]*intake\.auth\.bearer \(variable MONITOR_TOKEN\): the token is shorter than 16 characters/,
    );
  });
});
