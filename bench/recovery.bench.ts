// Benchmark (not a test): one host with N instances on the SIMULATED cloud, evacuate
// time T, Map concurrency C. Prints the whole execution's wall time against the ideal
// ceil(N/C)*T (what C perfect parallel lanes would take), the AWS history events per
// instance, and the largest state against Step Functions' 256 KiB (the embedded engine
// fails the run with States.DataLimitExceeded where AWS would). Run: npm run bench [-- --instances 1000 --concurrency 40 --evacuate-ms 2000 --poll-ms 100]
import { parseArgs } from 'node:util';
import { parseConfig } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import { startSimulatedCloud } from '../drivers/cloud/simulated/server.js';
import { toHistoryEvents } from '../engine/history.js';
import { LocalEngine } from '../engine/local-engine.js';
import { MAX_PAYLOAD_BYTES, payloadBytes } from '../engine/payload-limit.js';
import { createRuntime } from '../engine/runtime.js';
import { MemoryNotifier } from '../test/support/memory-notifier.js';
import { goal } from './goals.js';

const { values } = parseArgs({
  options: {
    instances: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '40' },
    'evacuate-ms': { type: 'string', default: '2000' },
    'poll-ms': { type: 'string', default: '100' },
  },
});
const n = Number(values.instances);
const c = Number(values.concurrency);
const t = Number(values['evacuate-ms']);
const poll = Number(values['poll-ms']);

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

/** One recovery of a host with `count` instances; returns the run and its wall time. */
async function recover(count: number) {
  // Hosts large enough for every evacuee: this measures the workflow, not a shortfall.
  const sim = await startSimulatedCloud({
    evacuateMs: t,
    hosts: ['compute-1', 'compute-2', 'compute-3', 'compute-4'],
    hostRamMb: 4_000_000,
    hostVcpus: 10_000,
    hostDiskGb: 100_000,
  });
  for (let i = 0; i < count; i += 1) sim.state.addServer({ host: 'compute-1', name: `bench-${i}` });
  sim.state.killCompute('compute-1', { reportedAgoMs: 120_000 });
  const config = parseConfig({
    cloud: { driver: 'simulated' },
    fencer: { driver: 'simulated' },
    notifiers: [],
    recovery: {
      fence: { pollIntervalMs: 20 },
      evacuation: { maxConcurrency: c, verifyPollMs: poll, verifyBudgetSeconds: 40, lockInstances: true },
    },
  });
  const rt = await createRuntime(config, {
    simulated: sim,
    logger: createLogger('bench'),
    notifiers: [new MemoryNotifier()],
  });
  const engine = new LocalEngine({ runtime: async () => rt });
  const input = {
    host: 'compute-1',
    incident: 'bench',
    cause: 'benchmark',
    requestedAt: new Date().toISOString(),
  };
  const started = performance.now();
  const run = engine.start(input, `bench-${count}`);
  const outcome = await run.done;
  const seconds = (performance.now() - started) / 1000;
  await sim.close();
  return { run, outcome, seconds, sim, history: toHistoryEvents(run.events, input, new Date()) };
}

// History cost per instance, measured as a margin so fixed per-run and per-wave events cancel.
const baseline = await recover(10);
const { run, outcome, seconds: total, sim, history } = await recover(n);
let evacuationStarted = 0;
let lastVerified = 0;
for (const e of run.events) {
  if (e.type === 'StateEntered' && e.state.name === 'EvacuateInstances') evacuationStarted = e.timestamp;
  if (e.type === 'StateExited' && e.state.name === 'VerifyInstance')
    lastVerified = Math.max(lastVerified, e.timestamp);
}
let largest = { state: '', bytes: 0 };
for (const e of run.events) {
  if (e.type !== 'StateEntered' && e.type !== 'StateExited') continue;
  const bytes = payloadBytes(e.type === 'StateEntered' ? e.state.input : e.state.output);
  if (bytes > largest.bytes) largest = { state: e.state.name, bytes };
}
const perInstance = (history.length - baseline.history.length) / (n - 10);
const ideal = (Math.ceil(n / c) * t) / 1000;
const mapSeconds = (lastVerified - evacuationStarted) / 1000;
const recovered = (outcome.output as { summary?: { recovered?: number } })?.summary?.recovered ?? 0;

const row = (label: string, value: string) => console.log(`${label.padEnd(44)} ${value}`);
console.log('freezer-dr recovery benchmark (SIMULATED cloud, embedded engine, real ASL)');
row('instances N / Map concurrency C / evacuate T', `${n} / ${c} / ${t} ms (verify poll ${poll} ms)`);
row('execution status', `${outcome.status}, ${recovered} recovered`);
row('total: execution start -> end', `${total.toFixed(2)} s`);
row('  of which Map: first evacuate -> last verified', `${mapSeconds.toFixed(2)} s`);
row('ideal ceil(N/C)*T', `${ideal.toFixed(2)} s`);
const ratio = total / ideal;
const ratioMet = goal(ratio <= 1.1, `total / ideal ${ratio.toFixed(3)} > 1.10`);
row('ratio total / ideal (goal <= 1.10)', `${ratio.toFixed(3)}${ratioMet ? '' : '  MISSED'}`);
const eventsMet = goal(perInstance <= 12, `${perInstance.toFixed(2)} history events per instance > 12`);
row(
  'AWS history events per instance (goal <= 12)',
  `${perInstance.toFixed(2)}${eventsMet ? '' : '  MISSED'}`,
);
row('AWS history events, whole execution', `${history.length} (limit 25,000)`);
row(
  'largest state input/output (limit 256 KiB)',
  `${(largest.bytes / 1024).toFixed(1)} KiB (${largest.state}), ${((100 * largest.bytes) / MAX_PAYLOAD_BYTES).toFixed(0)} %`,
);
row('simulated Nova requests', `${sim.state.counters.requests}`);
row(
  'unsafe evacuations / instances evacuated twice',
  `${sim.state.unsafeEvacuations} / ${[...sim.state.counters.evacuateAccepted.values()].filter((v) => v > 1).length}`,
);
goal(
  outcome.status === 'SUCCEEDED' && recovered === n,
  `${outcome.status}${outcome.error ? ` ${outcome.error}: ${outcome.cause}` : ''}, ${recovered} of ${n} recovered`,
);
