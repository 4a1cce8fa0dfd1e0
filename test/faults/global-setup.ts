// Runs once around the whole campaign: a fresh results directory before, and after, the
// table on stdout and in a file (only when every file ran, so a run of a single file does
// not overwrite the record): the untracked reports/fault-campaign.md, or the tracked
// docs/fault-campaign.md when asked (`npm run test:faults -- --update-docs`), so a run
// leaves the checkout clean. Any failed case makes the run exit non-zero.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { consoleTable, GROUPS, markdown, readRows, reportPath, totals } from './support/report.js';
import { RESULTS_ENV } from './support/results-dir.js';

export default function setup(): () => void {
  const dir = process.env[RESULTS_ENV] as string;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const started = Date.now();
  return () => {
    const rows = readRows(dir);
    const seconds = (Date.now() - started) / 1000;
    const t = totals(rows);
    process.stdout.write(
      `\nFault campaign: ${t.cases} cases in ${seconds.toFixed(0)} s\n${consoleTable(rows)}\n`,
    );
    process.stdout.write(
      `\n${t.passed}/${t.cases} passed; unverified evacuations ${t.unverified}, double evacuations ${t.double}, hosts fenced over budget ${t.overBudget}, instances both migrated and evacuated ${t.migratedAndEvacuated}; recoveries completed ${t.completed}/${t.expectedCompleted}\n`,
    );
    const complete = GROUPS.every((g) => rows.some((r) => r.group === g));
    if (complete && t.cases > 0) {
      const path = reportPath();
      mkdirSync(dirname(join(process.cwd(), path)), { recursive: true });
      writeFileSync(join(process.cwd(), path), markdown(rows, new Date(), seconds));
      process.stdout.write(`written to ${path}\n`);
    }
    if (t.passed !== t.cases) process.exitCode = 1;
    rmSync(dir, { recursive: true, force: true });
  };
}
