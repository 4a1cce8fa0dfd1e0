// Fuzzing the webhook with a seeded PRNG: random bytes, mutated real payloads, wrong
// types, huge strings, deep nesting, invalid UTF-8 and wrong content types. The handler
// must answer every one with a 2xx/4xx (never a 5xx, never a throw). Three hosts are
// really down, so the start path is live; the fuzzed bodies only ever name healthy hosts
// or garbage. A body that still reads as a down alert for a healthy host may start a
// recovery (it waits for Nova, which never agrees); a start for a host the bodies never
// name would be a parsing bug.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FORM,
  form,
  type IntakeRig,
  lambdaContext,
  startIntakeRig,
  webhookEvent,
} from '../support/intake.js';
import {
  alertmanagerPayload,
  icingaForm,
  nagiosForm,
  nagiosJson,
  zabbixBody,
} from '../support/intake-samples.js';
import { type Rng, rng } from '../support/prng.js';

const ITERATIONS = 5000;
const SEED = 0x5eed_2026;
const ALLOWED = new Set([202, 400, 401, 405, 413, 415, 422]);
const HEALTHY = ['compute-4', 'compute-5', 'compute-6', 'compute-7', 'compute-8'];

let rig: IntakeRig;
beforeAll(async () => {
  rig = await startIntakeRig({ hosts: 8, discardLogs: true, intake: { maxBodyBytes: 256 * 1024 } });
  for (const host of ['compute-1', 'compute-2', 'compute-3']) {
    rig.sim.state.killCompute(host, { reportedAgoMs: 120_000 });
  }
});
afterAll(async () => rig?.close());

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function seeds(r: Rng): { body: Json | Record<string, string>; form: boolean } {
  const host = r.pick(HEALTHY);
  const all = [
    {
      body: alertmanagerPayload([{ host }, { instance: `${r.pick(HEALTHY)}:9100` }]) as unknown as Json,
      form: false,
    },
    { body: nagiosJson(host) as Json, form: false },
    { body: nagiosForm(host), form: true },
    { body: icingaForm(host), form: true },
    { body: zabbixBody(host, '1') as Json, form: false },
    { body: { host, status: 'down', source: 'fuzz' }, form: false },
  ];
  return r.pick(all);
}

function nest(depth: number, leaf: Json, asArray: boolean): Json {
  let value = leaf;
  for (let i = 0; i < depth; i += 1) value = asArray ? [value] : { a: value };
  return value;
}

function weird(r: Rng): Json {
  switch (r.int(12)) {
    case 0:
      return null;
    case 1:
      return r.int(1e9) - 5e8;
    case 2:
      return r.chance(0.5);
    case 3:
      return [];
    case 4:
      return {};
    case 5:
      return 'x'.repeat(r.int(300_000));
    case 6:
      return nest(1 + r.int(1500), 'compute-4', r.chance(0.5)); // deeper in raw text below
    case 7:
      return '\u0000\ud800\uffff{{{}}}"\\';
    case 8:
      // Near-misses of a real host name (a healthy one: trimmed, " compute-4 " IS compute-4).
      return r.pick([
        'compute-4 ',
        ' compute-4',
        'compute-4;',
        '../compute-4',
        'COMPUTE-1\n',
        'compute-1.',
        '{HOST.HOST}',
      ]);
    case 9:
      return Number.NaN; // becomes null in JSON
    case 10:
      return '1e309';
    default:
      return r.pick(['__proto__', 'constructor', 'toString', 'firing', 'resolved', 'DOWN', 'HARD', '1', '0']);
  }
}

/** Replaces, deletes or adds a key somewhere in the value. */
function mutate(r: Rng, value: Json, depth = 0): Json {
  if (value === null || typeof value !== 'object' || depth > 4) return r.chance(0.7) ? weird(r) : value;
  if (Array.isArray(value)) {
    const copy = [...value];
    if (copy.length && r.chance(0.6)) {
      const i = r.int(copy.length);
      copy[i] = mutate(r, copy[i] as Json, depth + 1);
    } else copy.push(weird(r));
    return copy;
  }
  const copy: { [key: string]: Json } = { ...value };
  const keys = Object.keys(copy);
  const roll = r.int(10);
  if (roll < 6 && keys.length) {
    const key = r.pick(keys);
    copy[key] = mutate(r, copy[key] as Json, depth + 1);
  } else if (roll < 8 && keys.length) {
    delete copy[r.pick(keys)];
  } else {
    copy[
      r.pick(['__proto__', 'constructor', 'alerts', 'host', 'status', 'version', 'type', 'eventValue', 'x'])
    ] = weird(r);
  }
  return copy;
}

function randomBytes(r: Rng, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i += 1) bytes[i] = r.int(256);
  return bytes;
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  FORM,
  'text/plain',
  'application/xml',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'application/vnd.api+json',
  '',
  '\u0000;;;=',
  null,
];

function fuzzCase(r: Rng): {
  body: string | Buffer;
  contentType: string | null;
  base64?: boolean;
  method?: string;
} {
  const roll = r.int(20);
  if (roll === 0) return { body: randomBytes(r, r.int(4096)), contentType: r.pick(CONTENT_TYPES) };
  if (roll === 1) {
    const seed = seeds(r);
    const text = seed.form ? form(seed.body as Record<string, string>) : JSON.stringify(seed.body);
    const bytes = Buffer.from(text);
    for (let i = 0; i < 1 + r.int(4); i += 1) bytes[r.int(bytes.length)] = 0x80 + r.int(0x80); // invalid UTF-8
    return { body: bytes, contentType: seed.form ? FORM : 'application/json' };
  }
  if (roll === 2) {
    const depth = 1000 + r.int(200_000);
    return {
      body: '['.repeat(depth) + ']'.repeat(r.chance(0.5) ? depth : r.int(depth)),
      contentType: 'application/json',
    };
  }
  if (roll === 3) {
    const seed = JSON.stringify(seeds(r).body);
    return { body: seed.slice(0, r.int(seed.length)), contentType: 'application/json' }; // truncated
  }
  if (roll === 4) return { body: 'x'.repeat(300_000 + r.int(300_000)), contentType: r.pick(CONTENT_TYPES) };
  if (roll === 5)
    return {
      body: JSON.stringify(seeds(r).body),
      contentType: r.pick(CONTENT_TYPES),
      method: r.pick(['GET', 'PUT', 'post']),
    };
  const seed = seeds(r);
  const mutated = mutate(r, seed.body as Json);
  if (seed.form && r.chance(0.7) && mutated && typeof mutated === 'object' && !Array.isArray(mutated)) {
    const fields = Object.fromEntries(
      Object.entries(mutated).map(([k, v]) => [k, typeof v === 'string' ? v : (JSON.stringify(v) ?? '')]),
    );
    const text = form(fields) + (r.chance(0.2) ? `&${r.pick(Object.keys(fields).concat('host'))}=dup` : '');
    return { body: text, contentType: r.chance(0.9) ? FORM : r.pick(CONTENT_TYPES), base64: r.chance(0.5) };
  }
  return {
    body: JSON.stringify(mutated) ?? 'undefined',
    contentType: r.chance(0.9) ? 'application/json' : r.pick(CONTENT_TYPES),
    base64: r.chance(0.5),
  };
}

describe('webhook fuzz', () => {
  it(`answers ${ITERATIONS} random and mutated bodies without a 5xx, a throw or a start for a host not named`, async () => {
    const r = rng(SEED);
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    for (let i = 0; i < ITERATIONS; i += 1) {
      const c = fuzzCase(r);
      const auth = r.chance(0.95) ? (r.chance(0.5) ? 'bearer' : 'hmac') : 'none';
      const event = webhookEvent(c.body, {
        contentType: c.contentType,
        auth,
        ...(c.base64 !== undefined ? { base64: c.base64 } : {}),
        ...(c.method ? { method: c.method } : {}),
      });
      try {
        const result = await rig.handler(event, lambdaContext);
        const status = result.statusCode ?? 0;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (!ALLOWED.has(status)) failures.push(`#${i} → ${status} ${result.body?.slice(0, 200)}`);
        if (status >= 400 && !/"error":"[^"]+"/.test(result.body ?? ''))
          failures.push(`#${i} → ${status} without a reason`);
      } catch (error) {
        failures.push(`#${i} threw ${(error as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
    const started = rig.sfn.started.map((e) => JSON.parse(e.input ?? '{}').host as string);
    expect(started.filter((host) => !HEALTHY.includes(host))).toEqual([]);
    // The fuzz reaches every layer, not just the first refusal.
    for (const status of [202, 400, 401, 413, 415, 422])
      expect(statuses.get(status) ?? 0).toBeGreaterThan(20);
  });

  it('still starts a recovery for a well-formed alert afterwards', async () => {
    const r = await rig.post({ host: 'compute-1', status: 'down' });
    expect(rig.sfn.started.some((e) => JSON.parse(e.input ?? '{}').host === 'compute-1')).toBe(true);
    expect(r.body.outcomes).toMatchObject([{ decision: 'started' }]);
  });
});
