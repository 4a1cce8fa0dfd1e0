// The relay's front door against a REAL ipmi_sim BMC: signatures, validity window,
// replays, host-name and action validation, and where the BMC password may (environment
// of ipmitool) and may not (argv, audit lines, answers) appear.
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRelayFencer, relayFencerSchema } from '../../drivers/fencer/relay-options.js';
import { canonicalString, computeSignature, HEADER, signRequest } from '../../infra/relay/protocol.js';
import { relayConfigSchema } from '../../infra/relay/relay-config.js';
import { type BmcLab, requireBmcTools, startBmcLab } from '../support/bmc-lab.js';
import { ipmiEntry, type RelayLab, startRelayLab } from '../support/relay-lab.js';
import { selfSignedCertificate } from '../support/self-signed.js';

let lab: BmcLab;
let relay: RelayLab;

beforeAll(async () => {
  lab = await startBmcLab({ count: 1 });
  relay = await startRelayLab(
    {
      'compute-1': ipmiEntry(lab.bmc(0)),
      'compute-env': ipmiEntry(lab.bmc(0), { passwordFile: undefined, passwordEnv: 'BMC_PASSWORD' }),
    },
    { env: { BMC_PASSWORD: lab.bmc(0).password } },
  );
});
afterAll(async () => {
  await relay?.close();
  await lab?.stop();
});

const STATUS = '/v1/hosts/compute-1/power';

/** A signed request sent with this exact request target (fetch would resolve "//x/..." and "%2E%2E"). */
function rawSigned(
  target: string,
  method = 'GET',
  headers: Record<string, string> = signRequest(
    { id: relay.keyId, secret: relay.key },
    method,
    target,
    method === 'POST' ? '{}' : '',
  ),
): Promise<{ status: number; json: Record<string, unknown> }> {
  const { port } = new URL(relay.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: target, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : {} });
      });
    });
    req.on('error', reject);
    req.end(method === 'POST' ? '{}' : undefined);
  });
}

const auditOf = (from: number) => relay.audit.slice(from).map((line) => JSON.parse(line));

describe('relay authentication', () => {
  it('answers a correctly signed request', async () => {
    const { status, json } = await relay.request('GET', STATUS);
    expect(status).toBe(200);
    expect(json).toMatchObject({ host: 'compute-1', kind: 'ipmi', state: 'on', error: null });
  });

  it('refuses an unsigned request with 401, before revealing whether the host exists', async () => {
    expect((await relay.request('GET', STATUS, { sign: false })).json).toEqual({ error: 'unauthorized' });
    const unknown = await relay.request('GET', '/v1/hosts/nosuch/power', { sign: false });
    expect(unknown).toEqual({ status: 401, json: { error: 'unauthorized' } });
  });

  it('answers every authentication failure alike (key ids cannot be enumerated); the audit line keeps why', async () => {
    const from = relay.audit.length;
    const bad = signRequest({ id: relay.keyId, secret: relay.key }, 'GET', STATUS, '');
    // Flip the last hex digit to a different one (a fixed replacement is a no-op 1 time in 16).
    const signature = bad[HEADER.signature] as string;
    bad[HEADER.signature] = `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`;
    const attempts: [string, Record<string, string>, string?][] = [
      ['bad-signature', bad],
      [
        'bad-signature',
        signRequest({ id: relay.keyId, secret: relay.key }, 'GET', '/v1/hosts/compute-2/power', ''),
      ],
      [
        'bad-signature',
        signRequest({ id: relay.keyId, secret: Buffer.from('x'.repeat(64)) }, 'GET', STATUS, ''),
      ],
      ['unknown-key', signRequest({ id: 'other', secret: relay.key }, 'GET', STATUS, '')],
      ['unknown-key', signRequest({ id: 'other', secret: Buffer.from('x'.repeat(64)) }, 'GET', STATUS, '')],
      [
        'bad-signature',
        {
          ...signRequest({ id: relay.keyId, secret: relay.key }, 'GET', STATUS, ''),
          [HEADER.signature]: 'ab',
        },
      ],
      ['missing-signature', {}],
    ];
    for (const [, headers] of attempts) {
      expect(await relay.request('GET', STATUS, { sign: false, headers })).toEqual({
        status: 401,
        json: { error: 'unauthorized' },
      });
    }
    const otherBody = signRequest({ id: relay.keyId, secret: relay.key }, 'POST', `${STATUS}/on`, '{}');
    expect(
      await relay.request('POST', `${STATUS}/on`, { sign: false, headers: otherBody, body: '{"x":1}' }),
    ).toEqual({ status: 401, json: { error: 'unauthorized' } });
    expect(auditOf(from).map((line) => line.auth)).toEqual([
      ...attempts.map(([why]) => why),
      'bad-signature',
    ]);
    expect(auditOf(from).every((line) => line.status === 401 && line.outcome === 'unauthorized')).toBe(true);
    expect(lab.bmc(0).hostRunning()).toBe(true);
  });

  it('clips an oversized x-relay-key-id in the audit line', async () => {
    const from = relay.audit.length;
    const headers = signRequest({ id: 'k'.repeat(15_000), secret: relay.key }, 'GET', STATUS, '');
    expect((await relay.request('GET', STATUS, { sign: false, headers })).status).toBe(401);
    const [line] = auditOf(from);
    expect(line.auth).toBe('unknown-key');
    expect(line.keyId.length).toBeLessThanOrEqual(65);
    expect(relay.audit.at(-1)?.length).toBeLessThan(1000);
  });

  it('refuses requests signed more than 30 s in the past or the future', async () => {
    const from = relay.audit.length;
    for (const skew of [-31_000, 31_000]) {
      const headers = signRequest(
        { id: relay.keyId, secret: relay.key },
        'GET',
        STATUS,
        '',
        Date.now() + skew,
      );
      expect(await relay.request('GET', STATUS, { sign: false, headers })).toEqual({
        status: 401,
        json: { error: 'unauthorized' },
      });
    }
    expect(auditOf(from).map((line) => line.auth)).toEqual(['expired', 'expired']);
    const inWindow = signRequest(
      { id: relay.keyId, secret: relay.key },
      'GET',
      STATUS,
      '',
      Date.now() - 20_000,
    );
    expect((await relay.request('GET', STATUS, { sign: false, headers: inWindow })).status).toBe(200);
  });

  it('refuses a replayed request, even re-signed with the same nonce and a new timestamp', async () => {
    const headers = signRequest({ id: relay.keyId, secret: relay.key }, 'GET', STATUS, '');
    expect((await relay.request('GET', STATUS, { sign: false, headers })).status).toBe(200);
    const from = relay.audit.length;
    expect(await relay.request('GET', STATUS, { sign: false, headers })).toEqual({
      status: 401,
      json: { error: 'unauthorized' },
    });
    const timestamp = String(Date.now() + 1000);
    const nonce = headers[HEADER.nonce] as string;
    const resigned = {
      ...headers,
      [HEADER.timestamp]: timestamp,
      [HEADER.signature]: computeSignature(
        relay.key,
        canonicalString({ method: 'GET', path: STATUS, timestamp, nonce, body: '' }),
      ),
    };
    expect((await relay.request('GET', STATUS, { sign: false, headers: resigned })).status).toBe(401);
    expect(auditOf(from).map((line) => line.auth)).toEqual(['replayed', 'replayed']);
  });

  it('refuses oversized bodies', async () => {
    const { status } = await relay.request('POST', `${STATUS}/off`, { body: 'x'.repeat(10_000) });
    expect(status).toBe(413);
    expect(lab.bmc(0).hostRunning()).toBe(true);
  });
});

describe('relay request validation', () => {
  it('refuses host names that look like options or shell, without running anything', async () => {
    const before = relay.spawned.length;
    const names = [
      '-H',
      '--help',
      'a;rm -rf',
      '$(x)',
      '`id`',
      'a|b',
      'a&&b',
      "a'b",
      'a b',
      '.hidden',
      'a/../b',
      '%0acompute-1',
    ];
    for (const name of names) {
      const { status, json } = await relay.request('GET', `/v1/hosts/${encodeURIComponent(name)}/power`);
      expect(status, name).toBe(400);
      expect(json.error, name).toBe('invalid-host');
    }
    for (const raw of ['-H', '$(x)', 'a;rm%20-rf', '%2D%2Dhelp', 'a%00b']) {
      const { status, json } = await relay.request('POST', `/v1/hosts/${raw}/power/off`);
      expect(status, raw).toBe(400);
      expect(json.error, raw).toBe('invalid-host');
    }
    expect(relay.spawned.length).toBe(before);
    expect(lab.bmc(0).hostRunning()).toBe(true);
  });

  it('refuses a signed target that URL parsing would rewrite: %2E%2E never reaches the whole-inventory drill', async () => {
    const from = relay.audit.length;
    const runs = relay.spawned.length;
    const targets: [string, string][] = [
      ['GET', '/v1/hosts/%2E%2E/power'],
      ['GET', '/v1/hosts/%2e%2e/power'],
      ['GET', '/v1/hosts/compute-1/%2E%2E/%2E%2E/power'],
      ['GET', '/v1/hosts/compute-1/./power'],
      ['GET', '/v1/x/../power'],
      ['GET', '/v1\\power'],
      ['POST', '/v1/hosts/compute-1/power/%2E%2E/off'],
      ['POST', '/v1/hosts/compute-9/power/../../compute-1/power/off'],
    ];
    for (const [method, target] of targets) {
      expect(await rawSigned(target, method), target).toEqual({
        status: 400,
        json: { error: 'non-canonical-path' },
      });
    }
    expect(auditOf(from).map((line) => [line.auth, line.host, line.outcome])).toEqual(
      targets.map(() => ['ok', null, 'non-canonical-path']),
    );
    expect(relay.spawned.length).toBe(runs);
    expect(lab.bmc(0).hostRunning()).toBe(true);
  });

  it('refuses unknown hosts, unknown actions, wrong methods and a kind the host does not have', async () => {
    expect(await relay.request('GET', '/v1/hosts/compute-9/power')).toEqual({
      status: 404,
      json: { error: 'unknown-host' },
    });
    for (const action of ['reset', 'status', 'soft', 'diag', '-f']) {
      const { status, json } = await relay.request('POST', `${STATUS}/${action}`);
      expect(status, action).toBe(400);
      expect(json.error).toBe('unknown-action');
    }
    expect((await relay.request('GET', `${STATUS}/off`)).status).toBe(405);
    expect((await relay.request('POST', STATUS)).status).toBe(405);
    expect((await relay.request('GET', '/v1/admin')).status).toBe(404);
    expect((await rawSigned('//relay.invalid/v1/power')).status).toBe(404);
    expect((await relay.request('GET', `${STATUS}?kind=redfish`)).json).toMatchObject({
      error: 'kind-mismatch',
    });
    expect((await relay.request('GET', `${STATUS}?kind=ipmi&x=1`)).json).toMatchObject({
      error: 'bad-query',
    });
    expect(lab.bmc(0).hostRunning()).toBe(true);
  });

  it('refuses actions missing from the allow-list', async () => {
    const fencingOnly = await startRelayLab(
      { 'compute-1': ipmiEntry(lab.bmc(0)) },
      { actions: ['status', 'off'] },
    );
    try {
      expect(await fencingOnly.request('POST', `${STATUS}/on`)).toEqual({
        status: 403,
        json: { error: 'action-not-allowed' },
      });
      expect(await fencingOnly.request('POST', `${STATUS}/cycle`)).toMatchObject({ status: 403 });
      expect(fencingOnly.spawned).toHaveLength(0);
    } finally {
      await fencingOnly.close();
    }
  });
});

describe('what each key may do', () => {
  it('a key may read and power off unless relay.yaml grants it more', () => {
    const config = relayConfigSchema.parse({
      inventoryFile: 'inventory.yaml',
      keys: [
        { id: 'lambda', env: 'K1' },
        { id: 'restore', env: 'K2', actions: ['status', 'off', 'on', 'cycle'] },
      ],
    });
    expect(config.keys.map((k) => [k.id, k.actions])).toEqual([
      ['lambda', ['status', 'off']],
      ['restore', ['status', 'off', 'on', 'cycle']],
    ]);
    expect(() =>
      relayConfigSchema.parse({ inventoryFile: 'x', keys: [{ id: 'a', env: 'K', actions: ['reset'] }] }),
    ).toThrow();
  });

  it('a fencing key reads and powers off; on and cycle answer 403 and run nothing', async () => {
    requireBmcTools(['virsh']);
    const fencing = await startRelayLab(
      { 'compute-1': ipmiEntry(lab.bmc(0)), vm: { kind: 'libvirt', uri: 'test:///default', domain: 'test' } },
      { keyActions: ['status', 'off'] },
    );
    try {
      expect((await fencing.request('GET', STATUS)).json).toMatchObject({ state: 'on' });
      // test:///default forgets the destroy at once: an off that really runs, and harms nothing.
      expect((await fencing.request('POST', '/v1/hosts/vm/power/off')).json).toMatchObject({
        action: 'off',
        state: 'off',
      });
      const runs = fencing.spawned.length;
      for (const action of ['on', 'cycle']) {
        expect(await fencing.request('POST', `${STATUS}/${action}`)).toEqual({
          status: 403,
          json: { error: 'action-not-allowed' },
        });
      }
      expect(fencing.spawned.length).toBe(runs);
      const fencer = await createRelayFencer(
        'ipmi-relay',
        'ipmi',
        relayFencerSchema('ipmi-relay').parse(fencing.fencerConfig('ipmi-relay')),
        {},
      );
      await expect(fencer.powerOn('compute-1')).rejects.toThrow(
        /HTTP 403 action-not-allowed .*relay\.yaml.*restore key/,
      );
      expect(lab.bmc(0).hostRunning()).toBe(true);
    } finally {
      await fencing.close();
    }
  });
});

describe('inventory listing', () => {
  it("GET /v1/hosts names each host's controller without users, passwords or BMC calls", async () => {
    const runs = relay.spawned.length;
    const { status, json } = await relay.request('GET', '/v1/hosts');
    expect(status).toBe(200);
    expect(json.hosts).toEqual([
      { host: 'compute-1', kind: 'ipmi', controller: `ipmi lanplus 127.0.0.1:${lab.bmc(0).port}` },
      { host: 'compute-env', kind: 'ipmi', controller: `ipmi lanplus 127.0.0.1:${lab.bmc(0).port}` },
    ]);
    expect(JSON.stringify(json)).not.toMatch(/admin|password|BMC_PASSWORD|ipmi\.pass/);
    expect(relay.spawned.length).toBe(runs);
    expect((await relay.request('GET', '/v1/hosts', { sign: false })).status).toBe(401);
  });
});

describe('secrets', () => {
  it('passes the BMC password only in ipmitool environment, never in argv', async () => {
    expect((await relay.request('GET', '/v1/hosts/compute-env/power')).json).toMatchObject({ state: 'on' });
    const { password } = lab.bmc(0);
    expect(relay.spawned.length).toBeGreaterThan(0);
    for (const run of relay.spawned) {
      expect(run.args.join(' ')).not.toContain(password);
      expect(run.args).toContain('-E');
      expect(run.args).toEqual(expect.arrayContaining(['-C', '3', '-N', '1', '-R', '1']));
      expect(run.env).toEqual({ IPMI_PASSWORD: password });
    }
  });

  it('a running ipmitool shows no password in /proc/<pid>/cmdline, only in its environment', async () => {
    const bmc = lab.bmc(0);
    bmc.setFault({ kind: 'hang', seconds: 1 });
    try {
      const pending = relay.request('GET', STATUS);
      let seen: { cmdline: string; environ: string } | null = null;
      const deadline = Date.now() + 3000;
      while (!seen && Date.now() < deadline) {
        for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
          try {
            const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
            if (cmdline.startsWith('ipmitool') && cmdline.includes(` ${bmc.port} `)) {
              seen = { cmdline, environ: readFileSync(`/proc/${entry}/environ`, 'utf8') };
            }
          } catch {
            // process ended while being read
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await pending;
      expect(seen, 'an ipmitool process was seen running').not.toBeNull();
      expect(seen?.cmdline).not.toContain(bmc.password);
      expect(seen?.cmdline).toContain('-E');
      expect(seen?.environ.split('\0')).toContain(`IPMI_PASSWORD=${bmc.password}`);
    } finally {
      bmc.setFault({ kind: 'none' });
    }
  });

  it('writes one JSON audit line per request, with no password or key in any of them', async () => {
    const before = relay.audit.length;
    await relay.request('GET', STATUS);
    await relay.request('GET', STATUS, { sign: false });
    await relay.request('GET', '/v1/hosts/-H/power');
    expect(relay.audit.length).toBe(before + 3);
    const [ok, unsigned, invalid] = relay.audit.slice(before).map((line) => JSON.parse(line));
    expect(ok).toMatchObject({
      event: 'relay.request',
      auth: 'ok',
      keyId: relay.keyId,
      host: 'compute-1',
      status: 200,
    });
    expect(ok.outcome).toBe('on');
    expect(ok.controller).toBe(`ipmi lanplus 127.0.0.1:${lab.bmc(0).port}`);
    expect(unsigned).toMatchObject({
      auth: 'missing-signature',
      status: 401,
      host: null,
      outcome: 'unauthorized',
    });
    expect(invalid).toMatchObject({ auth: 'ok', status: 400, outcome: 'invalid-host' });
    const all = relay.audit.join('\n');
    expect(all).not.toContain(lab.bmc(0).password);
    expect(all).not.toContain(relay.key.toString());
    expect(all).not.toMatch(/IPMI_PASSWORD/);
  });

  it('never puts a password into an answer, even when ipmitool fails', async () => {
    const wrong = await startRelayLab(
      { 'compute-1': ipmiEntry(lab.bmc(0), { passwordFile: undefined, passwordEnv: 'P' }) },
      { env: { P: 'not-the-password' } },
    );
    try {
      const { json } = await wrong.request('GET', STATUS);
      expect(json).toMatchObject({ error: { class: 'auth-failed' } });
      expect(JSON.stringify(json)).not.toContain('not-the-password');
      expect(wrong.audit.join('\n')).not.toContain('not-the-password');
    } finally {
      await wrong.close();
    }
  });
});

describe('TLS', () => {
  it('serves HTTPS with the given certificate; the fencer verifies it against caFile', async () => {
    const tls = selfSignedCertificate('relay.test');
    const secure = await startRelayLab({ 'compute-1': ipmiEntry(lab.bmc(0)) }, { tls });
    try {
      expect(secure.url).toMatch(/^https:\/\/127\.0\.0\.1:/);
      const options = relayFencerSchema('ipmi-relay').parse({
        ...secure.fencerConfig('ipmi-relay'),
        caFile: tls.certFile,
      });
      const fencer = await createRelayFencer('ipmi-relay', 'ipmi', options, {});
      expect(await fencer.powerStatus('compute-1')).toBe('on');
      const untrusting = await createRelayFencer('ipmi-relay', 'ipmi', { ...options, caFile: undefined }, {});
      await expect(untrusting.powerStatus('compute-1')).rejects.toThrow(/relay 127\.0\.0\.1:\d+ unreachable/);
    } finally {
      await secure.close();
      tls.remove();
    }
  });
});
