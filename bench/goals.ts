// The goals a benchmark checks. A miss is marked where it is measured (MISSED, OVER in the
// bench's own lines), makes the process exit non-zero, and is recorded for the one-line
// summary: bench/run.ts (npm run bench) prints it once every bench has run; a bench run
// alone prints it as it exits.
import { appendFileSync } from 'node:fs';

/** A file bench/run.ts passes to each bench: one missed goal per line. */
export const MISSES_ENV = 'FREEZER_DR_BENCH_MISSES';

const missed: string[] = [];

/** Records `what` as missed unless `met`; returns `met`. */
export function goal(met: boolean, what: string): boolean {
  if (met) return true;
  missed.push(what);
  process.exitCode = 1;
  const file = process.env[MISSES_ENV];
  if (file) appendFileSync(file, `${what}\n`);
  return false;
}

process.once('exit', () => {
  if (missed.length && !process.env[MISSES_ENV]) {
    process.stderr.write(`goals missed: ${missed.join('; ')}\n`);
  }
});
