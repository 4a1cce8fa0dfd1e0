// Benchmark on the real lab (npm run bench:lab brings it up first): N servers on
// compute-1; one run alternates, for --rounds rounds,
//   (a) the floor (bench/lab-floor.ts): ipmitool power-off, force-down, parallel
//       evacuates, poll 0.5 s; timed from the power-off;
//   (b) freezer-dr: compute-1 hangs (its nova-compute is SIGSTOPped, so the BMC still
//       reads on and fencing really powers it off); an alert is posted to the webhook at
//       once and every second until the intake starts a recovery (as Alertmanager's
//       repeats would); timed from the webhook's receipt to the last VerifyInstance exit,
//       fencing through the relay to the same BMC.
// (b) runs once per placement method (--methods, default `scheduler,spread`: issue 10 asks
// how much planning targets costs against letting Nova's scheduler choose), in alternating
// order between rounds so drift on the shared machine does not favour one. Prints each
// run's per-stage breakdown and where its servers landed, then the medians, freezer-dr
// against the floor and spread against scheduler (Nova's own rebuild time swings by
// several seconds between runs); JSON under the lab dir.
//   npm run bench:lab -- --servers 10 --stale-after 15 --rounds 3 [--methods spread] [--floor false] [--lock false]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { PlanEvacuationResult } from '../core/plan-evacuation.js';
import type { RecoveryMethod } from '../core/plan-targets.js';
import { restoreHost } from '../core/restore-host.js';
import { parseNovaTime, sleep } from '../core/time.js';
import type { StoredEvent } from '../engine/history.js';
import { hangCompute, ipmi, LAB_DIR, labCloud } from '../test/lab/lab-env.js';
import { LabNova, until } from '../test/lab/lab-nova.js';
import { startLabStack } from '../test/lab/lab-stack.js';
import { type FloorResult, lastDoneAt, runFloor } from './lab-floor.js';

const { values } = parseArgs({
  options: {
    servers: { type: 'string', default: '10' },
    'stale-after': { type: 'string', default: '15' },
    /** recovery.evacuation.lockInstances (freezer-dr's default: true). */
    lock: { type: 'string', default: 'true' },
    /** Floor and freezer-dr alternate this many times; medians are reported (Nova's variance is large). */
    rounds: { type: 'string', default: '3' },
    /** recovery.placement.method of the freezer-dr runs, each once per round. */
    methods: { type: 'string', default: 'scheduler,spread' },
    /** The floor runs once per round unless false. */
    floor: { type: 'string', default: 'true' },
  },
});
const N = Number(values.servers);
const STALE_AFTER = Number(values['stale-after']);
const LOCK = values.lock !== 'false';
const ROUNDS = Number(values.rounds);
const METHODS = values.methods.split(',').map((m) => m.trim()) as RecoveryMethod[];
const FLOOR = values.floor !== 'false';
for (const m of METHODS)
  if (!['scheduler', 'spread', 'reserved'].includes(m)) throw new Error(`unknown placement method ${m}`);
const HOST = 'compute-1';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

const nova = new LabNova(labCloud());
const s = (x: number) => `${x.toFixed(2).padStart(7)} s`;
const say = (line = '') => process.stdout.write(`${line}\n`);
/** {compute-3: 5, compute-2: 5} -> "compute-2 x5, compute-3 x5". */
const landing = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([host, n]) => `${host} x${n}`)
    .join(', ');

async function bootOnHost(prefix: string): Promise<string[]> {
  const ids = await nova.bootActive(
    Array.from({ length: N }, (_, i) => ({ name: `${prefix}${i + 1}`, host: HOST })),
  );
  await sleep(3000); // let the boot traffic settle before the clock starts
  return ids;
}

// ---------------------------------------------------------------- (a) floor ----
async function floor(): Promise<FloorResult> {
  const ids = await bootOnHost('bench-floor-');
  const result = await runFloor(nova, HOST, ids, 'bench-floor-');
  await ipmi(HOST, 'chassis', 'power', 'on');
  await nova.healHost(HOST);
  await nova.deleteServers(ids);
  return result;
}

// ----------------------------------------------------------- (b) freezer-dr ----
interface StageTimes {
  firstAlert: number;
  acceptedAlert: number;
  executionStarted: number;
  stages: Record<string, [number, number]>;
  firstEvacuateExit: number;
  lastEvacuateExit: number;
  lastVerifyExit: number;
  alertsPosted: number;
  reportAgeAtHang: number;
  lastDoneInNova: number;
  outcome: string;
  method: RecoveryMethod;
  /** Where the servers were when the execution ended, host -> count. */
  destinations: Record<string, number>;
  planSummary: string;
}

function timesOf(
  events: StoredEvent[],
): Pick<
  StageTimes,
  'executionStarted' | 'stages' | 'firstEvacuateExit' | 'lastEvacuateExit' | 'lastVerifyExit'
> {
  const top = (type: string, name: string) =>
    events.filter((e) => e.type === type && 'state' in e && e.state.name === name && e.index === undefined);
  const inner = (name: string) =>
    events
      .filter(
        (e) => e.type === 'StateExited' && 'state' in e && e.state.name === name && e.index !== undefined,
      )
      .map((e) => e.timestamp);
  const stages: Record<string, [number, number]> = {};
  for (const name of [
    'ConfirmHostFailure',
    'FenceHost',
    'VerifyPowerOff',
    'MarkHostDown',
    'SelectInstances',
    'PlanTargets',
    'EvacuateInstances',
  ]) {
    const entered = top('StateEntered', name)[0]?.timestamp;
    const exited = top('StateExited', name).at(-1)?.timestamp;
    if (entered !== undefined && exited !== undefined) stages[name] = [entered, exited];
  }
  const evacuations = inner('EvacuateInstance');
  return {
    executionStarted: events.find((e) => e.type === 'ExecutionStarted')?.timestamp ?? Number.NaN,
    stages,
    firstEvacuateExit: Math.min(...evacuations),
    lastEvacuateExit: Math.max(...evacuations),
    lastVerifyExit: Math.max(...inner('VerifyInstance')),
  };
}

async function freezerDr(method: RecoveryMethod): Promise<StageTimes> {
  const stack = await startLabStack({
    recovery: {
      confirm: { staleAfterSeconds: STALE_AFTER },
      evacuation: { maxConcurrency: 10, verifyPollMs: 500, lockInstances: LOCK },
      placement: { method },
    },
  });
  try {
    const ids = await bootOnHost('bench-fdr-');
    const before = await nova.service(HOST);
    const reportAgeAtHang = (Date.now() - (parseNovaTime(before.updatedAt) ?? Number.NaN)) / 1000;
    hangCompute(HOST);
    const firstAlert = Date.now();
    let alertsPosted = 0;
    const name = await until(
      'the intake to start a recovery',
      async () => {
        alertsPosted += 1;
        const { body } = await stack.postAlert(HOST, 'bench-monitor');
        const [outcome] = body.outcomes as { decision: string; executionName: string | null }[];
        return outcome?.decision === 'started' ? outcome.executionName : null;
      },
      120_000,
      1000,
    );
    const done = await until(
      'the recovery to end',
      async () => {
        const described = await stack.describe(name as string);
        return described.status !== 'RUNNING' ? described : null;
      },
      600_000,
      250,
    );
    const input = JSON.parse(done.input ?? '{}') as { requestedAt?: string };
    const output = JSON.parse(done.output ?? '{}') as { plan?: PlanEvacuationResult };
    const times = timesOf(stack.executions.events(name as string));
    const lastDoneInNova = await lastDoneAt(nova, ids); // before the restore marks them completed
    const destinations: Record<string, number> = {};
    for (const server of await Promise.all(ids.map((id) => nova.cloud.getServer(id)))) {
      const host = server?.host ?? 'gone';
      destinations[host] = (destinations[host] ?? 0) + 1;
    }
    await restoreHost(stack.rt, HOST, {
      leaveDisabled: false,
      timeoutSeconds: 300,
      pollMs: 1000,
      onProgress: () => undefined,
    });
    // The next run boots on this host: the scheduler takes it only once it reports up.
    await until(`${HOST} up`, async () => (await nova.service(HOST)).state === 'up', 120_000);
    await nova.deleteServers(ids);
    return {
      ...times,
      firstAlert,
      acceptedAlert: Date.parse(input.requestedAt ?? ''),
      alertsPosted,
      reportAgeAtHang,
      lastDoneInNova,
      method,
      destinations,
      planSummary: output.plan?.summary ?? '(no plan in the output)',
      outcome: `${done.status}${done.error ? ` ${done.error}: ${(done.cause ?? '').slice(0, 400)}` : ''}`,
    };
  } finally {
    await stack.close();
  }
}

// --------------------------------------------------------------------- run ----
function printFloor(a: FloorResult): void {
  say(`    power off answered          ${s(a.powerOff)}`);
  say(`    forced down                 ${s(a.forcedDown)}`);
  say(`    ${N} evacuate POSTs answered ${s(a.postsAnswered)}`);
  say(`    last evacuation done (Nova) ${s(a.lastDoneInNova)}   (migration updated_at, whole seconds)`);
  say(
    `    last server ACTIVE          ${s(a.lastActive)}   (per server: ${a.perServer.map((x) => x.toFixed(1)).join(', ')})`,
  );
  say(`    landed on ${landing(a.destinations)}`);
}

interface Totals {
  fromFirst: number;
  fromAccepted: number;
  evacuateStage: number;
  /** PlanTargets entered -> last VerifyInstance exit: the part the placement method changes. */
  planToVerified: number;
}

function printFreezerDr(b: StageTimes): Totals {
  const rel = (t: number) => (t - b.firstAlert) / 1000;
  const dur = (stage: string) => {
    const span = b.stages[stage];
    return span ? (span[1] - span[0]) / 1000 : Number.NaN;
  };
  say(
    `    hang; Nova's last report of ${HOST} was ${b.reportAgeAtHang.toFixed(1)} s old; first alert posted at once`,
  );
  say(
    `    alert accepted by the intake ${s(rel(b.acceptedAlert))}   (Nova stale > ${STALE_AFTER} s; ${b.alertsPosted} alerts posted, 1/s)`,
  );
  say(`    execution started           ${s(rel(b.executionStarted))}`);
  for (const stage of [
    'ConfirmHostFailure',
    'FenceHost',
    'VerifyPowerOff',
    'MarkHostDown',
    'SelectInstances',
    'PlanTargets',
  ]) {
    say(
      `    ${stage.padEnd(27)} ${s(dur(stage))}   (ends at ${s(rel(b.stages[stage]?.[1] ?? Number.NaN)).trim()})`,
    );
  }
  say(
    `    evacuate POSTs answered     ${s(rel(b.firstEvacuateExit))} .. ${s(rel(b.lastEvacuateExit)).trim()}`,
  );
  say(`    last evacuation done (Nova) ${s(rel(b.lastDoneInNova))}   (migration updated_at, whole seconds)`);
  say(`    last VerifyInstance exit    ${s(rel(b.lastVerifyExit))}   (execution ${b.outcome})`);
  say(`    plan "${b.planSummary}"; landed on ${landing(b.destinations)}`);
  return {
    fromFirst: rel(b.lastVerifyExit),
    fromAccepted: (b.lastVerifyExit - b.acceptedAlert) / 1000,
    evacuateStage: (b.lastVerifyExit - (b.stages.EvacuateInstances?.[0] ?? Number.NaN)) / 1000,
    planToVerified: (b.lastVerifyExit - (b.stages.PlanTargets?.[0] ?? Number.NaN)) / 1000,
  };
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

say(
  `freezer-dr lab benchmark: ${N} servers on ${HOST}, ${ROUNDS} round(s) of ${[...(FLOOR ? ['floor'] : []), ...METHODS.map((m) => `freezer-dr/${m}`)].join(', ')}`,
);
say(
  "Nova 26 with service_down_time 60 s, report_interval 10 s; Nova's own rebuild time varies a lot between runs",
);
await nova.healLab();
type Run = StageTimes & Totals;
const rounds: { floor: FloorResult | null; freezerDr: Run[] }[] = [];
for (let round = 1; round <= ROUNDS; round += 1) {
  say(`\n--- round ${round}/${ROUNDS}`);
  let a: FloorResult | null = null;
  if (FLOOR) {
    say(
      '(a) floor: ipmitool power off -> force-down -> parallel evacuate at 2.68 -> all ACTIVE elsewhere (poll 0.5 s)',
    );
    a = await floor();
    printFloor(a);
  }
  // Alternate the order of the methods so neither always runs on the warmer lab.
  const order = round % 2 ? METHODS : [...METHODS].reverse();
  const runs: Run[] = [];
  for (const method of order) {
    say(
      `(b) freezer-dr, placement ${method}: alert at the webhook -> last VerifyInstance exit (confirm.staleAfterSeconds ${STALE_AFTER}, verifyPollMs 500, maxConcurrency 10, lockInstances ${LOCK})`,
    );
    const b = await freezerDr(method);
    runs.push({ ...b, ...printFreezerDr(b) });
  }
  rounds.push({ floor: a, freezerDr: runs });
  const parts = a ? [`floor ${s(a.lastActive).trim()} (${landing(a.destinations)})`] : [];
  for (const r of runs) {
    parts.push(
      `${r.method} ${s(r.fromAccepted).trim()} from the accepted alert, ${s(r.fromFirst).trim()} from the first (${landing(r.destinations)})`,
    );
  }
  say(`round ${round}: ${parts.join('; ')}`);
}

const runsOf = (method: RecoveryMethod) =>
  rounds.flatMap((r) => r.freezerDr.filter((run) => run.method === method));
const medianOf = (method: RecoveryMethod, pick: (r: Run) => number) => median(runsOf(method).map(pick));
const floorMedian = FLOOR ? median(rounds.map((r) => (r.floor as FloorResult).lastActive)) : Number.NaN;
say(`\n=== medians over ${ROUNDS} round(s)`);
if (FLOOR) {
  say(`floor (power-off -> last ACTIVE)                  ${s(floorMedian)}`);
  say(`  landed: ${rounds.map((r) => landing((r.floor as FloorResult).destinations)).join(' | ')}`);
}
for (const method of METHODS) {
  const accepted = medianOf(method, (r) => r.fromAccepted);
  const first = medianOf(method, (r) => r.fromFirst);
  const vsFloor = (x: number) => (FLOOR ? `   ratio to floor ${(x / floorMedian).toFixed(2)}` : '');
  say(`freezer-dr/${method}`);
  say(
    `  accepted alert -> last verified                 ${s(accepted)}${vsFloor(accepted)}${FLOOR ? '   (goal <= 1.2)' : ''}`,
  );
  say(
    `  first alert -> last verified                    ${s(first)}${vsFloor(first)}   (includes waiting for Nova to see the host stale)`,
  );
  say(
    `  PlanTargets -> last verified                    ${s(medianOf(method, (r) => r.planToVerified))}   (evacuate + verify alone ${s(medianOf(method, (r) => r.evacuateStage)).trim()})`,
  );
  say(
    `  landed: ${runsOf(method)
      .map((r) => landing(r.destinations))
      .join(' | ')}`,
  );
}
if (FLOOR) {
  say(
    `floor force-down -> last ACTIVE ${s(median(rounds.map((r) => (r.floor as FloorResult).lastActive - (r.floor as FloorResult).forcedDown))).trim()}`,
  );
}
if (METHODS.includes('spread') && METHODS.includes('scheduler')) {
  const ratio = (pick: (r: Run) => number) => medianOf('spread', pick) / medianOf('scheduler', pick);
  const accepted = ratio((r) => r.fromAccepted);
  say(
    `\nspread / scheduler, accepted alert -> last verified: ${accepted.toFixed(2)}   (goal <= 1.10: ${accepted <= 1.1 ? 'met' : 'NOT met'})`,
  );
  say(
    `spread / scheduler, PlanTargets -> last verified:    ${ratio((r) => r.planToVerified).toFixed(2)}   (the placement-dependent part alone)`,
  );
  say(
    `spread / scheduler, first alert -> last verified:    ${ratio((r) => r.fromFirst).toFixed(2)}   (noisy: Nova staleness)`,
  );
}

const out = join(LAB_DIR, 'bench');
mkdirSync(out, { recursive: true });
const file = join(out, `lab-recovery-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(
  file,
  `${JSON.stringify({ servers: N, staleAfterSeconds: STALE_AFTER, lockInstances: LOCK, methods: METHODS, rounds }, null, 2)}\n`,
);
say(`results: ${file}`);
