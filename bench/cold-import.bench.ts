// Benchmark (not a test): cold import of each packaged Lambda bundle, as a fresh Lambda
// container would pay it. Packages with osls (offline) unless --package-dir is given,
// then imports each function's .mjs in a new Node 22 process, 5 times, and prints the
// median against the 150 ms goal. The bundles find only the AWS SDK beside them, as in
// the nodejs22.x runtime. Run: npx tsx bench/cold-import.bench.ts
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { packageService, unpackBundles } from '../infra/deploy/bundles.js';
import { goal } from './goals.js';

const { values } = parseArgs({
  options: { 'package-dir': { type: 'string' }, runs: { type: 'string', default: '5' } },
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

console.log(
  `cold import of each bundle (${runs} fresh processes each, ${process.version}, load ${loadavg()[0]?.toFixed(1)}); goal <= 150 ms`,
);
console.log(
  `${'function'.padEnd(22)} ${'bundle KB'.padStart(9)} ${'median ms'.padStart(10)} ${'min ms'.padStart(8)}  goal`,
);
let worst = { name: '', ms: 0 };
let over = 0;
for (const bundle of bundles) {
  const times = Array.from({ length: runs }, () =>
    Number(
      execFileSync(node, ['--input-type=module', '-e', probe, bundle.file], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '' },
      }),
    ),
  );
  const m = median(times);
  if (m > worst.ms) worst = { name: bundle.name, ms: m };
  if (m > 150) over += 1;
  console.log(
    `${bundle.name.padEnd(22)} ${(bundle.bytes / 1024).toFixed(0).padStart(9)} ${m.toFixed(1).padStart(10)} ${Math.min(
      ...times,
    )
      .toFixed(1)
      .padStart(8)}  ${m <= 150 ? 'ok' : 'OVER'}`,
  );
}
console.log(`worst median ${worst.ms.toFixed(1)} ms; ratio to goal ${(worst.ms / 150).toFixed(2)}`);
goal(
  over === 0,
  `${over} of ${bundles.length} bundles over 150 ms (worst ${worst.name} ${worst.ms.toFixed(1)} ms)`,
);
