// Benchmark (not a test): cold import of each packaged Lambda bundle, as a fresh Lambda
// container would pay it. Packages with osls (offline) unless --package-dir is given,
// then imports each function's .mjs in a new Node 22 process, --runs times, twice: quiet,
// then loaded (stress-ng keeping every core busy, as on a shared machine; skipped with
// --no-loaded or without stress-ng). The 150 ms goal is judged on the quiet medians; the
// loaded ones are reported. The bundles find only the AWS SDK beside them, as in the
// nodejs22.x runtime. Run: npx tsx bench/cold-import.bench.ts [--runs 7] [--no-loaded]
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { packageService, type UnpackedBundle, unpackBundles } from '../infra/deploy/bundles.js';
import { goal } from './goals.js';

const GOAL_MS = 150;
const { values } = parseArgs({
  options: {
    'package-dir': { type: 'string' },
    runs: { type: 'string', default: '7' },
    'no-loaded': { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
let dir = values['package-dir'];
if (!dir) {
  dir = mkdtempSync(join(tmpdir(), 'freezer-dr-bench-package-'));
  packageService(dir, 'bench');
}
const bundles = unpackBundles(dir, mkdtempSync(join(tmpdir(), 'freezer-dr-bench-zip-')));
const node = process.execPath;
const probe =
  'const t=performance.now();await import(process.argv[1]);process.stdout.write(String(performance.now()-t))';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

interface Timing {
  median: number;
  min: number;
}

function measure(bundle: UnpackedBundle): Timing {
  const times = Array.from({ length: runs }, () =>
    Number(
      execFileSync(node, ['--input-type=module', '-e', probe, bundle.file], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '' },
      }),
    ),
  );
  return { median: median(times), min: Math.min(...times) };
}

/** stress-ng on every core, stopped by its PID (also if this process dies first), or null without it. */
function startLoad(): ChildProcess | null {
  if (values['no-loaded'] || spawnSync('stress-ng', ['--version']).status !== 0) return null;
  const stress = spawn(
    'stress-ng',
    ['--cpu', String(availableParallelism()), '--timeout', '15m', '--quiet'],
    {
      stdio: 'ignore',
    },
  );
  process.once('exit', () => stress.kill('SIGINT'));
  return stress;
}

async function stopLoad(stress: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => stress.once('exit', resolve));
  stress.kill('SIGINT');
  await exited;
}

const quietLoad = loadavg()[0] ?? 0;
const quiet = bundles.map(measure);
let loaded: Timing[] | null = null;
let loadedLoad = 0;
const stress = startLoad();
if (stress) {
  await new Promise((resolve) => setTimeout(resolve, 3000)); // the load average catches up a little
  loaded = bundles.map(measure);
  loadedLoad = loadavg()[0] ?? 0;
  await stopLoad(stress);
}

console.log(
  `cold import of each bundle (${runs} fresh processes each, ${process.version}, ${availableParallelism()} cores); goal <= ${GOAL_MS} ms quiet`,
);
console.log(
  `  quiet: load ${quietLoad.toFixed(1)} when it started; loaded: ${loaded ? `stress-ng --cpu ${availableParallelism()}, load ${loadedLoad.toFixed(1)} at its end` : 'not measured (--no-loaded, or no stress-ng)'}`,
);
console.log(
  `${'function'.padEnd(22)} ${'bundle KB'.padStart(9)} ${'quiet med'.padStart(10)} ${'min'.padStart(7)}  goal  ${'loaded med'.padStart(10)} ${'min'.padStart(7)}`,
);
const fmt = (ms: number | undefined, width: number) =>
  (ms === undefined ? '-' : ms.toFixed(1)).padStart(width);
bundles.forEach((bundle, i) => {
  const q = quiet[i] as Timing;
  const l = loaded?.[i];
  console.log(
    `${bundle.name.padEnd(22)} ${(bundle.bytes / 1024).toFixed(0).padStart(9)} ${fmt(q.median, 10)} ${fmt(q.min, 7)}  ${q.median <= GOAL_MS ? 'ok  ' : 'OVER'}  ${fmt(l?.median, 10)} ${fmt(l?.min, 7)}`,
  );
});
const worstOf = (timings: Timing[]) =>
  timings.reduce((w, t, i) => (t.median > w.ms ? { name: bundles[i]?.name ?? '', ms: t.median } : w), {
    name: '',
    ms: 0,
  });
const worst = worstOf(quiet);
console.log(
  `worst quiet median ${worst.ms.toFixed(1)} ms (${worst.name}); ratio to goal ${(worst.ms / GOAL_MS).toFixed(2)}${loaded ? `; worst loaded median ${worstOf(loaded).ms.toFixed(1)} ms (${worstOf(loaded).name})` : ''}`,
);
const over = quiet.filter((t) => t.median > GOAL_MS).length;
goal(
  over === 0,
  `${over} of ${bundles.length} bundles over ${GOAL_MS} ms quiet (worst ${worst.name} ${worst.ms.toFixed(1)} ms)`,
);
