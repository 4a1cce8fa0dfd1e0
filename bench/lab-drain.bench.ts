// Benchmark of the drain on the real lab (npm run bench:lab:drain brings it up first):
// N servers pinned to compute-1, and per round, in an order that rotates between rounds:
//   floor          N parallel os-migrateLive (2.93, host null, block_migration auto), then
//                  one list of servers and one of compute-1's live-migration records every
//                  0.5 s until each is ACTIVE with no task elsewhere and its record
//                  `completed`; timed from the first POST (bench/lab-drain-floor.ts)
//   floor+targets  the same, each call naming compute-2/compute-3 in turn (as a spread plan)
//   freezer-dr     the drain workflow as `freezer-dr drain compute-1` starts it
//                  (bench/lab-drain-run.ts), timed from the start to the last instance verified
// Then the medians and the goal (freezer-dr <= 1.2 x the floor's median; exit 1 on a miss).
// JSON under the lab dir.
//   npm run bench:lab:drain -- --servers 10 --rounds 3 [--only floor] [--concurrency 3 --poll 5]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LAB_DIR, labCloud } from '../test/lab/lab-env.js';
import { LabNova } from '../test/lab/lab-nova.js';
import { goal } from './goals.js';
import { type DrainFloorResult, runDrainFloor } from './lab-drain-floor.js';
import { type DrainRun, drainRunner } from './lab-drain-run.js';
import { bootOnHost as bootN, landing, median, s, say } from './lab-report.js';

const { values } = parseArgs({
  options: {
    servers: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    /** `floor` runs the two floors only (no freezer-dr, no goal). */
    only: { type: 'string', default: '' },
    /** drain.maxConcurrency and drain.pollSeconds of the freezer-dr runs; the shipped defaults unless given. */
    concurrency: { type: 'string' },
    poll: { type: 'string' },
  },
});
const N = Number(values.servers);
const ROUNDS = Number(values.rounds);
const HOST = 'compute-1';
const TARGETS = ['compute-2', 'compute-3'];
const FLOOR_ONLY = values.only === 'floor';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

const nova = new LabNova(labCloud());
const bootOnHost = (prefix: string) => bootN(nova, HOST, N, prefix);

async function floor(targets?: string[]): Promise<DrainFloorResult> {
  const ids = await bootOnHost('bench-drainfloor-');
  try {
    return await runDrainFloor(nova, HOST, ids, 'bench-drainfloor-', targets ? { targets } : {});
  } finally {
    await nova.deleteServers(ids);
  }
}

function printFloor(label: string, a: DrainFloorResult): void {
  say(
    `    ${label}: ${N} POSTs answered ${s(a.postsAnswered).trim()}, last moved ${s(a.lastMoved).trim()}, Nova's last completed ${s(a.lastCompletedInNova).trim()} (${landing(a.destinations)}; records seen ${a.statusesSeen.join(' > ')})`,
  );
}

say(
  `freezer-dr lab drain benchmark: ${N} servers on ${HOST}, ${ROUNDS} round(s) of floor, floor+targets${FLOOR_ONLY ? '' : ' and freezer-dr'}`,
);
await nova.healLab();
const drainConfig = {
  ...(values.concurrency ? { maxConcurrency: Number(values.concurrency) } : {}),
  ...(values.poll ? { pollSeconds: Number(values.poll) } : {}),
};
const runner = FLOOR_ONLY
  ? null
  : await drainRunner({ nova, host: HOST, servers: N, say, drain: drainConfig });
type Round = { floor: DrainFloorResult; targeted: DrainFloorResult; run?: DrainRun };
const rounds: Round[] = [];
try {
  for (let round = 1; round <= ROUNDS; round += 1) {
    say(`\n--- round ${round}/${ROUNDS}`);
    const parts: Partial<Round> = {};
    const order = FLOOR_ONLY ? ['floor', 'targeted'] : ['floor', 'targeted', 'freezer-dr'];
    for (let i = 0; i < round - 1; i += 1) order.push(order.shift() as string);
    for (const what of order) {
      if (what === 'floor') {
        parts.floor = await floor();
        printFloor('(a) floor', parts.floor);
      } else if (what === 'targeted') {
        parts.targeted = await floor(TARGETS);
        printFloor('(b) floor with targets', parts.targeted);
      } else if (runner) {
        say('(c) freezer-dr drain:');
        parts.run = await runner.run();
      }
    }
    rounds.push(parts as Round);
  }
} finally {
  await runner?.close();
}

const floorMedian = median(rounds.map((r) => r.floor.lastMoved));
const targetedMedian = median(rounds.map((r) => r.targeted.lastMoved));
say(`\n=== medians over ${ROUNDS} round(s)`);
say(
  `floor (first POST -> last moved and completed)     ${s(floorMedian)}   runs: ${rounds.map((r) => r.floor.lastMoved.toFixed(1)).join(', ')}`,
);
say(
  `floor with targets                                 ${s(targetedMedian)}   runs: ${rounds.map((r) => r.targeted.lastMoved.toFixed(1)).join(', ')}`,
);
if (runner) {
  say(
    `drain settings: ${JSON.stringify(drainConfig)} over the shipped defaults (maxConcurrency 3, pollSeconds 5)`,
  );
  const drain = median(rounds.map((r) => r.run?.seconds ?? Number.NaN));
  say(
    `freezer-dr drain (trigger -> last verified)        ${s(drain)}   runs: ${rounds.map((r) => (r.run?.seconds ?? Number.NaN).toFixed(1)).join(', ')}`,
  );
  const ratio = drain / floorMedian;
  say('\ngoals');
  const line = `drain / floor ${ratio.toFixed(2)} <= 1.2 (vs floor with targets: ${(drain / targetedMedian).toFixed(2)})`;
  say(`  ${goal(ratio <= 1.2, line) ? 'met   ' : 'MISSED'} ${line}`);
  const safe = rounds.every((r) => r.run?.unsafe === 0);
  const safeLine = 'no instance evacuated, none moved twice';
  say(`  ${goal(safe, safeLine) ? 'met   ' : 'MISSED'} ${safeLine}`);
}

const out = join(LAB_DIR, 'bench');
mkdirSync(out, { recursive: true });
const file = join(out, `lab-drain-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify({ servers: N, rounds }, null, 2)}\n`);
say(`results: ${file}`);
