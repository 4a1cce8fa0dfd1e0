// Who may start a recovery: bearer token or HMAC-signed body, constant-time compared,
// secrets read from a file or variable and never logged. A refused caller gets a bare
// 401 and leaves nothing behind but a counter.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { loadConfigFile } from '../../core/config.js';
import { signBody } from '../../core/intake/auth.js';
import { MemoryStateStore } from '../../core/intake/state-store.js';
import { createHandler, webhookRuntime } from '../../functions/webhook.js';
import { fakeExecutions } from '../support/fake-sfn.js';
import {
  HMAC_SECRET,
  type IntakeRig,
  lambdaContext,
  startIntakeRig,
  TOKEN,
  webhookEvent,
} from '../support/intake.js';

// AWS Secrets Manager, as Powertools' getSecret reaches it (the webhook imports it lazily).
const secretsManager = vi.hoisted(() => ({
  get: (_id: string): Promise<string | undefined> => Promise.resolve(undefined),
}));
vi.mock('@aws-lambda-powertools/parameters/secrets', () => ({
  getSecret: (id: string) => secretsManager.get(id),
}));

let rig: IntakeRig;
let dir: string | null = null;
afterEach(async () => {
  vi.useRealTimers();
  await rig?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

const alert = { host: 'compute-1', status: 'down', source: 'test' };
const body = JSON.stringify(alert);

async function expectRefused(headers: Record<string, string>, raw = body) {
  const before = (await rig.handler.intake()).counters.unauthorized;
  const r = await rig.post(raw, { auth: 'none', headers });
  expect(r.status).toBe(401);
  expect(r.body).toEqual({ error: 'unauthorized' });
  expect((await rig.handler.intake()).counters.unauthorized).toBe(before + 1);
}

describe('webhook authentication', () => {
  it('accepts the bearer token Alertmanager sends and refuses anything else with a bare 401', async () => {
    rig = await startIntakeRig();
    rig.sim.state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    await expectRefused({});
    await expectRefused({ authorization: 'Bearer wrong-token-0123456789abcdef' });
    await expectRefused({ authorization: `Bearer ${TOKEN}x` });
    await expectRefused({ authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}` });
    await expectRefused({ authorization: TOKEN });
    expect(rig.sfn.startCalls).toBe(0);
    expect(rig.lines).toEqual([]);
    const ok = await rig.post(body, { headers: { authorization: `bearer   ${TOKEN}` }, auth: 'none' });
    expect(ok.status).toBe(202);
    expect(rig.sfn.started).toHaveLength(1);
  });

  it('checks authentication before parsing: junk from a stranger is 401, not 400', async () => {
    rig = await startIntakeRig();
    await expectRefused({ 'content-type': 'text/plain' }, '\u0000{{{ not json');
    expect(rig.lines).toEqual([]);
  });

  it('accepts an HMAC-SHA256 signature over "<timestamp>.<body>" and refuses tampering, replays and skew', async () => {
    rig = await startIntakeRig();
    const now = Math.floor(Date.now() / 1000);
    const signed = (ts: number, raw = body, secret = HMAC_SECRET) => ({
      'x-freezer-dr-timestamp': String(ts),
      'x-freezer-dr-signature': signBody(secret, ts, raw),
    });
    expect((await rig.post(body, { auth: 'hmac' })).status).toBe(202);
    expect((await rig.post(body, { auth: 'none', headers: signed(now) })).status).toBe(202);
    // The bare hex form (no "sha256=" prefix) is accepted too.
    const hex = signed(now - 1)['x-freezer-dr-signature'].replace('sha256=', '');
    expect(
      (await rig.post(body, { auth: 'none', headers: { ...signed(now - 1), 'x-freezer-dr-signature': hex } }))
        .status,
    ).toBe(202);
    await expectRefused(signed(now), body.replace('compute-1', 'compute-2'));
    await expectRefused(signed(now, body, 'another-secret-0123456789abcdef'));
    // Skew beyond the 300 s window, read from the clock when sent (a loaded machine takes
    // seconds to get here, and `now + 301` would then fall inside the window).
    const clock = () => Math.floor(Date.now() / 1000);
    await expectRefused(signed(clock() - 400));
    await expectRefused(signed(clock() + 400));
    await expectRefused({ ...signed(now), 'x-freezer-dr-timestamp': `${now}.5` });
    await expectRefused({ ...signed(now), 'x-freezer-dr-signature': 'sha256=zz' });
    await expectRefused({ 'x-freezer-dr-signature': signed(now)['x-freezer-dr-signature'] });
  });

  it('reads tokens from a file, several lines during a rotation, ignoring ones too short to be safe', async () => {
    dir = mkdtempSync(join(tmpdir(), 'freezer-dr-auth-'));
    const file = join(dir, 'token');
    writeFileSync(file, 'old-token-abcdefghijklmnop\nshort\nnew-token-abcdefghijklmnop\n');
    rig = await startIntakeRig({ intake: { auth: { bearer: { file }, hmac: null, reloadSeconds: 0 } } });
    for (const token of ['old-token-abcdefghijklmnop', 'new-token-abcdefghijklmnop']) {
      expect(
        (await rig.post(body, { auth: 'none', headers: { authorization: `Bearer ${token}` } })).status,
      ).toBe(202);
    }
    await expectRefused({ authorization: 'Bearer short' });
    await expectRefused({ authorization: `Bearer ${TOKEN}` }); // the env token is not used when a file is named
    writeFileSync(file, 'new-token-abcdefghijklmnop\n');
    await expectRefused({ authorization: 'Bearer old-token-abcdefghijklmnop' });
    const logged = rig.lines.join('\n');
    expect(logged).toMatch(/shorter than the minimum/);
    for (const secret of ['old-token', 'new-token', 'short"', TOKEN, HMAC_SECRET])
      expect(logged).not.toContain(secret);
  });

  it('refuses every request when no secret is configured, and says so once in the log', async () => {
    rig = await startIntakeRig({ env: { TEST_WEBHOOK_TOKEN: '', TEST_WEBHOOK_HMAC: '' } });
    await expectRefused({ authorization: 'Bearer ' });
    await expectRefused({ authorization: `Bearer ${TOKEN}` });
    const warnings = rig.lines.filter((l) => l.includes('no secret configured'));
    expect(warnings).toHaveLength(1);
  });

  it('with hmac: null, a valid signature alone is not enough', async () => {
    rig = await startIntakeRig({ intake: { auth: { bearer: { env: 'TEST_WEBHOOK_TOKEN' }, hmac: null } } });
    const ts = Math.floor(Date.now() / 1000);
    await expectRefused({
      'x-freezer-dr-timestamp': String(ts),
      'x-freezer-dr-signature': signBody(HMAC_SECRET, ts, body),
    });
  });
});

describe('webhook secret in AWS Secrets Manager', () => {
  const viaSecret = {
    auth: { bearer: { secret: 'freezer-dr/webhook-token' }, hmac: null, reloadSeconds: 60 },
  };

  it('accepts the token stored as a plain string or as {"token": ...}', async () => {
    const asked: string[] = [];
    secretsManager.get = async (id) => {
      asked.push(id);
      return JSON.stringify({ token: 'token-from-secrets-manager-0001' });
    };
    rig = await startIntakeRig({ intake: viaSecret });
    const ok = await rig.post(body, {
      auth: 'none',
      headers: { authorization: 'Bearer token-from-secrets-manager-0001' },
    });
    expect(ok.status).toBe(202);
    await expectRefused({ authorization: `Bearer ${TOKEN}` });
    expect(asked).toEqual(['freezer-dr/webhook-token']); // cached for reloadSeconds
    await rig.close();
    secretsManager.get = async () => 'plain-token-from-secrets-manager';
    rig = await startIntakeRig({ intake: viaSecret });
    expect(
      (
        await rig.post(body, {
          auth: 'none',
          headers: { authorization: 'Bearer plain-token-from-secrets-manager' },
        })
      ).status,
    ).toBe(202);
  });

  it('answers 503 (not 401) while the secret cannot be read, and keeps a secret it already has', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    let failing = true;
    secretsManager.get = async () => {
      if (failing) throw Object.assign(new Error('connect ETIMEDOUT'), { name: 'TimeoutError' });
      return 'token-from-secrets-manager-0002';
    };
    rig = await startIntakeRig({ intake: viaSecret });
    const headers = { authorization: 'Bearer token-from-secrets-manager-0002' };
    const down = await rig.post(body, { auth: 'none', headers });
    expect(down.status).toBe(503);
    expect(down.headers['retry-after']).toBe('10');
    expect(down.body.error).toMatch(/authentication unavailable/);
    failing = false;
    expect((await rig.post(body, { auth: 'none', headers })).status).toBe(503); // no retry storm: 5 s back-off
    vi.setSystemTime(Date.now() + 6_000);
    expect((await rig.post(body, { auth: 'none', headers })).status).toBe(202);
    failing = true;
    vi.setSystemTime(Date.now() + 61_000); // past reloadSeconds, the store fails again
    expect((await rig.post(body, { auth: 'none', headers })).status).toBe(202);
    expect(rig.lines.filter((l) => l.includes('webhook secret unreadable'))).toHaveLength(2);
    expect(rig.lines.join('\n')).not.toContain('token-from-secrets-manager');
  });
});

describe('signed requests are good once', () => {
  const nonceHeaders = (nonce: string, ts = Math.floor(Date.now() / 1000), raw = body) => ({
    'x-freezer-dr-timestamp': String(ts),
    'x-freezer-dr-nonce': nonce,
    'x-freezer-dr-signature': signBody(HMAC_SECRET, ts, raw, nonce),
  });

  it('refuses a signed request sent again (nonce, or the signature of a sender without one) with a bare 401', async () => {
    rig = await startIntakeRig();
    const first = nonceHeaders('nonce-0001-abcdefghijkl');
    expect((await rig.post(body, { auth: 'none', headers: first })).status).toBe(202);
    await expectRefused(first);
    // The nonce is signed: a fresh nonce on a captured signature does not verify.
    await expectRefused({ ...first, 'x-freezer-dr-nonce': 'nonce-0002-abcdefghijkl' });
    await expectRefused({ ...first, 'x-freezer-dr-nonce': 'short' });
    expect(
      (await rig.post(body, { auth: 'none', headers: nonceHeaders('nonce-0002-abcdefghijkl') })).status,
    ).toBe(202);
    // A sender signing "<timestamp>.<body>" still works, once per signature.
    const ts = Math.floor(Date.now() / 1000);
    const legacy = {
      'x-freezer-dr-timestamp': String(ts),
      'x-freezer-dr-signature': signBody(HMAC_SECRET, ts, body),
    };
    expect((await rig.post(body, { auth: 'none', headers: legacy })).status).toBe(202);
    await expectRefused(legacy);
    await expectRefused({
      ...legacy,
      'x-freezer-dr-signature': legacy['x-freezer-dr-signature'].replace('sha256=', ''),
    });
    expect(rig.lines.join('\n')).not.toContain('nonce-0001');
  });

  it('requireNonce refuses signatures without one', async () => {
    rig = await startIntakeRig({
      intake: { auth: { bearer: null, hmac: { env: 'TEST_WEBHOOK_HMAC', requireNonce: true } } },
    });
    const ts = Math.floor(Date.now() / 1000);
    await expectRefused({
      'x-freezer-dr-timestamp': String(ts),
      'x-freezer-dr-signature': signBody(HMAC_SECRET, ts, body),
    });
    expect((await rig.post(body, { auth: 'hmac' })).status).toBe(202);
  });

  it('remembers nonces in the shared store: another container refuses the replay too', async () => {
    const shared = new MemoryStateStore();
    rig = await startIntakeRig({ stateStore: shared });
    const { api } = fakeExecutions();
    (api as unknown as { client: unknown }).client = rig.sfn;
    const other = createHandler({
      runtime: async () => rig.rt,
      executions: () => api,
      env: rig.env,
      stateStore: () => shared,
    });
    const headers = nonceHeaders('nonce-0003-abcdefghijkl');
    expect((await rig.post(body, { auth: 'none', headers })).status).toBe(202);
    const replayed = await other(webhookEvent(body, { auth: 'none', headers }), lambdaContext);
    expect(replayed.statusCode).toBe(401);
    expect((await other.intake()).counters.unauthorized).toBe(1);
  });

  it('gives the nonce back when the answer is 503, so the sender may retry the same request', async () => {
    rig = await startIntakeRig();
    rig.sim.state.killCompute('compute-1', { reportedAgoMs: 120_000 });
    rig.sfn.failNextStarts = 1;
    const headers = nonceHeaders('nonce-0004-abcdefghijkl');
    expect((await rig.post(body, { auth: 'none', headers })).status).toBe(503);
    expect((await rig.post(body, { auth: 'none', headers })).status).toBe(202);
    await expectRefused(headers);
    expect(rig.sfn.started).toHaveLength(1);
  });
});

describe('the HMAC snippet of docs/intake.md', () => {
  it('signs what the webhook verifies, once', async () => {
    dir = mkdtempSync(join(tmpdir(), 'freezer-dr-snippet-'));
    const secret = join(dir, 'hmac.secret');
    writeFileSync(secret, HMAC_SECRET);
    const doc = readFileSync(new URL('../../docs/intake.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('### Signing instead of a token (HMAC)'));
    const snippet = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    // The snippet up to its curl line, with the secret file here; print what curl would send.
    const script = `${snippet.slice(0, snippet.indexOf('curl')).replaceAll('/etc/freezer-dr/hmac.secret', secret)}
printf '%s\\n%s\\n%s\\n%s' "$ts" "$nonce" "$sig" "$body"`;
    const [ts = '', nonce = '', sig = '', sent = ''] = execFileSync('bash', ['-c', script], {
      encoding: 'utf8',
    }).split('\n');
    expect(snippet).toContain('X-Freezer-DR-Nonce: $nonce');
    rig = await startIntakeRig();
    const headers = {
      'x-freezer-dr-timestamp': ts,
      'x-freezer-dr-nonce': nonce,
      'x-freezer-dr-signature': `sha256=${sig}`,
    };
    expect((await rig.post(sent, { auth: 'none', headers })).status).toBe(202);
    await expectRefused(headers, sent);
  });
});

describe('the front door', () => {
  it('answers strangers 401 before the runtime is built, reading no secret but the webhook token, even while the rest cannot be built', async () => {
    // Past the front door, Nova is read with intake.cloud's credentials, not the cloud section's.
    dir = mkdtempSync(join(tmpdir(), 'freezer-dr-front-door-'));
    const file = join(dir, 'freezer-dr.yaml');
    writeFileSync(
      file,
      stringify({
        cloud: { driver: 'openstack', clouds: { secret: 'freezer-dr/openstack' } },
        fencer: { driver: 'noop', iUnderstandHostsAreNotPoweredOff: true },
        notifiers: [{ driver: 'log' }],
        intake: {
          auth: { bearer: { secret: 'freezer-dr/webhook-token' }, hmac: null },
          // The intake lists Nova's services with credentials of its own (least privilege).
          cloud: { clouds: { secret: 'freezer-dr/openstack-intake' } },
        },
      }),
    );
    const saved = process.env.FREEZER_DR_CONFIG;
    process.env.FREEZER_DR_CONFIG = file;
    const asked: string[] = [];
    secretsManager.get = async (id) => {
      asked.push(id);
      if (id === 'freezer-dr/webhook-token') return 'token-from-secrets-manager-0004';
      throw Object.assign(new Error('connect ETIMEDOUT'), { name: 'TimeoutError' });
    };
    try {
      const { api } = fakeExecutions();
      const handler = createHandler({
        config: () => loadConfigFile(file),
        runtime: webhookRuntime(),
        executions: () => api,
      });
      const post = async (headers: Record<string, string>) =>
        (await handler(webhookEvent(body, { auth: 'none', headers }), lambdaContext)).statusCode;
      for (let i = 0; i < 3; i += 1) {
        expect(await post({})).toBe(401);
        expect(await post({ authorization: 'Bearer not-the-token-0123456789' })).toBe(401);
      }
      expect(asked).toEqual(['freezer-dr/webhook-token']);
      // Past the front door the runtime is built, and its failure is the caller's 5xx to retry.
      expect(await post({ authorization: 'Bearer token-from-secrets-manager-0004' })).toBe(500);
      expect(asked).toEqual(['freezer-dr/webhook-token', 'freezer-dr/openstack-intake']);
    } finally {
      process.env.FREEZER_DR_CONFIG = saved;
    }
  });
});
