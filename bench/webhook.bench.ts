// Benchmark (not a test): an alert storm on loopback against the real webhook handler
// behind a node http server, the SIMULATED cloud and an in-memory Step Functions. Prints
// alerts/s, request latency p50/p99/max, and executions started per host alerted down
// (goals: p99 <= 20 ms for requests that start nothing, those that start or wait for a start
// reported beside it with their StartExecution round trip; exactly one execution per host
// alerted down, every truly-down one among them).
// Run: npx tsx bench/webhook.bench.ts [--hosts 300 --down 90 --alerts 20000 --concurrency 16 | --rate 2000]
import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import type { Logger } from '@aws-lambda-powertools/logger';
import { createLogger } from '../core/logger.js';
import { startIntakeRig, TOKEN } from '../test/support/intake.js';
import { rng } from '../test/support/prng.js';
import { buildStorm } from '../test/support/storm.js';
import { serveWebhook } from '../test/support/webhook-server.js';
import { goal } from './goals.js';

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '300' },
    down: { type: 'string', default: '90' },
    alerts: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '16' },
    /** Requests per second, sent on schedule (open loop); 0: as fast as `concurrency` senders go. */
    rate: { type: 'string', default: '0' },
    seed: { type: 'string', default: '2026' },
    'sfn-latency-ms': { type: 'string', default: '20' },
    'cache-ms': { type: 'string', default: '1000' },
    /**
     * powertools: the production logger (Powertools, INFO), its lines written to a stream
     * that drops them; format: a plain JSON.stringify per line, dropped; none: no logging.
     */
    logs: { type: 'string', default: 'powertools' },
  },
});
const hosts = Number(values.hosts);
const downCount = Number(values.down);
const concurrency = Number(values.concurrency);
const rate = Number(values.rate);

function benchLogger(mode: string | undefined): Logger {
  if (mode === 'powertools') {
    const real = createLogger();
    // Everything a production line costs (attributes, serialisation, a write), but not the terminal.
    const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
    (real as unknown as { console: Console }).console = new Console({ stdout: sink, stderr: sink });
    return real;
  }
  const format = mode === 'format';
  const write =
    (level: string) =>
    (message: unknown, ...extra: unknown[]) => {
      if (format)
        JSON.stringify({
          level,
          message,
          timestamp: new Date().toISOString(),
          service: 'freezer-dr',
          ...Object.assign({}, ...(extra as object[])),
        });
    };
  const logger = Object.assign(
    { debug: write('DEBUG'), info: write('INFO'), warn: write('WARN'), error: write('ERROR') },
    { appendKeys: () => undefined, resetKeys: () => undefined, addContext: () => undefined },
  ) as unknown as Logger;
  (logger as unknown as { createChild: () => Logger }).createChild = () => logger;
  return logger;
}
const logger = benchLogger(values.logs);

const rig = await startIntakeRig({
  hosts,
  discardLogs: true,
  sfnLatencyMs: Number(values['sfn-latency-ms']),
  logger,
  intake: {
    snapshotCacheMs: Number(values['cache-ms']),
    protection: { maxStartsPerWindow: hosts },
  },
});
const random = rng(Number(values.seed));
const downHosts = new Set(random.shuffle([...rig.hosts]).slice(0, downCount));
for (const host of downHosts) rig.sim.state.killCompute(host, { reportedAgoMs: 120_000 });
// Healthy hosts' reports held for the storm, as in test/integration/intake-storm.test.ts: a report is a
// new incident key, so a storm spanning one would rightly start a second execution.
for (const host of rig.hosts.filter((h) => !downHosts.has(h))) {
  const sim = rig.sim.state.host(host);
  sim.lastReport = rig.sim.state.reportedAt(sim);
  sim.alive = false;
}
const storm = buildStorm(random, rig.hosts, downHosts, Number(values.alerts));
// Time spent inside the handler, apart from queueing on the shared event loop.
const handlerMs: number[] = [];
const timed = Object.assign(
  async (...args: Parameters<typeof rig.handler>) => {
    const started = performance.now();
    try {
      return await rig.handler(...args);
    } finally {
      handlerMs.push(performance.now() - started);
    }
  },
  { intake: rig.handler.intake },
);
const server = await serveWebhook(timed);
// The load generator runs in a worker thread, so its HTTP client does not queue on the
// server's event loop (Alertmanager and friends are other processes, after all).
const LOAD = `
const { parentPort, workerData } = require('node:worker_threads');
const { Agent, request } = require('node:http');
const { url, token, concurrency, rate, requests } = workerData;
const agent = new Agent({ keepAlive: true, maxSockets: rate > 0 ? 512 : concurrency });
const target = new URL(url);
// Latency counts from when the request was due (open loop), so a stalled server is not hidden.
const send = (req, due = performance.now()) => new Promise((resolve, reject) => {
  const started = due;
  const r = request({ agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST',
    headers: { 'content-type': req.contentType, 'content-length': Buffer.byteLength(req.body), authorization: 'Bearer ' + token } },
    (res) => { let body = ''; res.setEncoding('utf8'); res.on('data', (c) => { body += c; });
      // On the start path: it started an execution, or waited for a concurrent alert's start.
      res.on('end', () => resolve([res.statusCode, performance.now() - started,
        !body.includes('"started":[]') || body.includes('started by a concurrent alert')])); });
  r.on('error', reject);
  r.end(req.body);
});
(async () => {
  const latencies = new Float64Array(requests.length);
  const starting = new Uint8Array(requests.length);
  const statuses = {};
  let next = 0;
  const started = performance.now();
  const record = (i, [status, ms, didStart]) => {
    latencies[i] = ms;
    starting[i] = didStart ? 1 : 0;
    statuses[status] = (statuses[status] || 0) + 1;
  };
  if (rate > 0) {
    // Open loop: request i is due at i/rate seconds, whether or not earlier ones are done.
    const pending = [];
    while (next < requests.length) {
      const now = performance.now();
      while (next < requests.length && started + (next * 1000) / rate <= now) {
        const i = next++;
        pending.push(send(requests[i], started + (i * 1000) / rate).then((r) => record(i, r)));
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await Promise.all(pending);
  } else {
    // Closed loop: \`concurrency\` senders, each sending its next request when the last is answered.
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < requests.length) {
        const i = next++;
        record(i, await send(requests[i]));
      }
    }));
  }
  agent.destroy();
  parentPort.postMessage({ latencies, starting, statuses, wall: (performance.now() - started) / 1000 });
})();
`;

function load(requests: { body: string; contentType: string }[], overrides: { rate?: number } = {}) {
  return new Promise<{
    latencies: Float64Array;
    starting: Uint8Array;
    statuses: Record<string, number>;
    wall: number;
  }>((resolve, reject) => {
    const worker = new Worker(LOAD, {
      eval: true,
      workerData: { url: server.url, token: TOKEN, concurrency, rate: 0, requests, ...overrides },
    });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

// Warm-up: JIT and every format's parser, keep-alive sockets, Keystone token. Its alerts
// name hosts Nova does not know, so nothing starts: a down alert for a fleet host would
// start its recovery here, and the storm would find it already handled.
const strangers = Array.from({ length: 30 }, (_, i) => `warm-up-${i}`);
await load(
  buildStorm(rng(1), strangers, new Set(strangers.slice(0, 10)), 3000).map(({ body, contentType }) => ({
    body,
    contentType,
  })),
);
if (rig.sfn.startCalls) throw new Error(`the warm-up started ${rig.sfn.startCalls} executions`);
handlerMs.length = 0;

const result = await load(
  storm.map(({ body, contentType }) => ({ body, contentType })),
  { rate },
);
const latencies = [...result.latencies];
// A request on the start path waits for one StartExecution round trip (--sfn-latency-ms):
// Step Functions' time, not the intake's. Since a down alert starts a recovery at once, even
// for a host Nova reports up, that is every falsely alerted host's first alert too (2% of
// this storm's requests), so a p99 over all requests is that round trip by construction.
// The goal is on the others; the start path is reported beside it.
const sfnMs = Number(values['sfn-latency-ms']);
const offPath = latencies.filter((_, i) => !result.starting[i]).sort((a, b) => a - b);
const onPath = latencies.filter((_, i) => result.starting[i]).sort((a, b) => a - b);
const statuses = new Map(Object.entries(result.statuses).map(([s, n]) => [Number(s), n]));
const wall = result.wall;

latencies.sort((a, b) => a - b);
const handlerOnly = handlerMs.sort((a, b) => a - b);
const pctOf = (list: number[], p: number) =>
  list[Math.min(list.length - 1, Math.floor((p / 100) * list.length))] ?? 0;
const pct = (p: number) => pctOf(latencies, p);
const alerts = storm.reduce((sum, r) => sum + r.alerts, 0);
// A down alert starts a recovery at once, even for a host Nova still reports up (it waits
// for Nova in ConfirmHostFailure): exactly one per host alerted down, every truly-down one among them.
const startedHosts = rig.sfn.started.map((e) => JSON.parse(e.input).host as string);
const alertedDown = new Set(startedHosts).size;
const exactlyOne =
  alertedDown === startedHosts.length && [...downHosts].every((h) => startedHosts.includes(h));

await server.close();
await rig.close();

const fmt = (n: number) => n.toFixed(2);
const offMet = goal(pctOf(offPath, 99) <= 20, `p99 ${fmt(pctOf(offPath, 99))} ms > 20 ms off the start path`);

console.log(
  `webhook storm: ${storm.length} requests carrying ${alerts} alerts, ${hosts} hosts (${downCount} truly down), concurrency ${concurrency}, StartExecution latency ${values['sfn-latency-ms']} ms, logs ${values.logs}`,
);
console.log(
  `  throughput     ${Math.round(alerts / wall)} alerts/s (${Math.round(storm.length / wall)} requests/s, ${fmt(wall)} s)`,
);
console.log(
  `  latency        p50 ${fmt(pct(50))} ms   p99 ${fmt(pct(99))} ms   max ${fmt(latencies.at(-1) ?? 0)} ms   (all requests)`,
);
console.log(
  `  no start       p50 ${fmt(pctOf(offPath, 50))} ms   p99 ${fmt(pctOf(offPath, 99))} ms   (${offPath.length} requests; goal p99 <= 20 ms: ${offMet ? 'met' : 'MISSED'})`,
);
console.log(
  `  start path     p50 ${fmt(pctOf(onPath, 50))} ms   p99 ${fmt(pctOf(onPath, 99))} ms   (${onPath.length} requests that started an execution or waited for one: ${sfnMs} ms of Step Functions each)`,
);
console.log(
  `  in handler     p50 ${fmt(pctOf(handlerOnly, 50))} ms   p99 ${fmt(pctOf(handlerOnly, 99))} ms   max ${fmt(handlerOnly.at(-1) ?? 0)} ms`,
);
console.log(`  statuses       ${[...statuses].map(([s, n]) => `${s}×${n}`).join(' ')}`);
console.log(
  `  executions     ${startedHosts.length} started for ${alertedDown} hosts alerted down (${downHosts.size} truly down); StartExecution calls ${rig.sfn.startCalls} (${exactlyOne ? 'exactly one per host, every truly-down one' : 'MISMATCH'})`,
);
goal(
  exactlyOne,
  `${startedHosts.length} executions for ${alertedDown} hosts alerted down (${downHosts.size} truly down), not exactly one each`,
);
goal(
  [...statuses.keys()].every((s) => s === 202),
  `answers other than 202: ${[...statuses].map(([s, n]) => `${s}×${n}`).join(' ')}`,
);
