// npm run bench: every benchmark, one after another, each in its own process and each to
// the end even when an earlier one missed its goals; then one line saying what missed,
// and a non-zero exit if anything did. Arguments are not passed on (run one bench alone
// with npx tsx bench/<name>.bench.ts to give it options).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MISSES_ENV } from './goals.js';

const BENCHES = ['recovery', 'webhook', 'cold-import', 'notify'];

const dir = mkdtempSync(join(tmpdir(), 'freezer-dr-bench-'));
const misses: string[] = [];
for (const name of BENCHES) {
  const file = join(dir, `${name}.txt`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', `bench/${name}.bench.ts`], {
    stdio: 'inherit',
    env: { ...process.env, [MISSES_ENV]: file },
  });
  let recorded: string[] = [];
  try {
    recorded = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    // no goal missed
  }
  misses.push(...recorded.map((what) => `${name}: ${what}`));
  if (run.status !== 0 && !recorded.length) {
    misses.push(`${name}: exited ${run.status ?? run.signal} (see its output above)`);
  }
  console.log('');
}
rmSync(dir, { recursive: true, force: true });

if (misses.length) {
  console.log(`bench: ${misses.length} goal${misses.length === 1 ? '' : 's'} missed: ${misses.join('; ')}`);
  process.exitCode = 1;
} else {
  console.log(`bench: every goal met (${BENCHES.join(', ')})`);
}
