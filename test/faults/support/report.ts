// The campaign's table: printed at the end of `npm run test:faults`, and written with the
// date to reportPath().
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { table } from '../../../cli/table.js';
import type { CaseRow } from './campaign.js';

/** Sections of the table, in this order (each is one test file). */
export const GROUPS = [
  'bmc',
  'ipmi-relay',
  'nova',
  'notify',
  'alerts',
  'fleet',
  'engine-kill',
  'drain',
] as const;

export function readRows(dir: string): CaseRow[] {
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  const rank = (group: string) => {
    const at = (GROUPS as readonly string[]).indexOf(group);
    return at < 0 ? GROUPS.length : at;
  };
  return files
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as CaseRow)
    .sort((a, b) => rank(a.group) - rank(b.group) || a.group.localeCompare(b.group) || a.order - b.order);
}

/** Set by test/faults/run.sh for `npm run test:faults -- --update-docs`. */
export const UPDATE_DOCS_ENV = 'FREEZER_DR_FAULTS_UPDATE_DOCS';

/** Where the dated table goes: the tracked record only when asked, else an untracked report. */
export const reportPath = (env: NodeJS.ProcessEnv = process.env) =>
  env[UPDATE_DOCS_ENV] === '1' ? 'docs/fault-campaign.md' : 'reports/fault-campaign.md';

const n = (value: number | undefined | null) => (value === undefined || value === null ? '?' : String(value));
const completions = (row: CaseRow) => `${row.completions.actual ?? '?'}/${row.completions.expected}`;

export interface Totals {
  cases: number;
  passed: number;
  unverified: number;
  double: number;
  overBudget: number;
  migratedAndEvacuated: number;
  completed: number;
  expectedCompleted: number;
}

export function totals(rows: CaseRow[]): Totals {
  const sum = (pick: (row: CaseRow) => number | null | undefined) =>
    rows.reduce((s, r) => s + (pick(r) ?? 0), 0);
  return {
    cases: rows.length,
    passed: rows.filter((r) => r.pass).length,
    unverified: sum((r) => r.counters?.unverified),
    double: sum((r) => r.counters?.double),
    overBudget: sum((r) => r.counters?.overBudget),
    migratedAndEvacuated: sum((r) => r.counters?.migratedAndEvacuated),
    completed: sum((r) => r.completions.actual),
    expectedCompleted: sum((r) => r.completions.expected),
  };
}

export function consoleTable(rows: CaseRow[]): string {
  return table(
    [
      'CASE',
      'EXPECTED',
      'ACTUAL',
      'UNVERIFIED EVAC',
      'DOUBLE EVAC',
      'OVER BUDGET',
      'MIGRATED+EVAC',
      'COMPLETED (act/exp)',
      'RESULT',
    ],
    rows.map((r) => [
      `${r.group}/${r.name}`,
      r.expected,
      r.actual,
      n(r.counters?.unverified),
      n(r.counters?.double),
      n(r.counters?.overBudget),
      n(r.counters?.migratedAndEvacuated),
      completions(r),
      r.pass ? 'pass' : 'FAIL',
    ]),
  );
}

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

export function markdown(rows: CaseRow[], at: Date, seconds: number): string {
  const t = totals(rows);
  const lines = [
    '# Fault campaign',
    '',
    `Produced by \`npm run test:faults\` on ${at.toISOString().slice(0, 10)} (${at.toISOString()}), ${t.cases} cases in ${Math.round(seconds)} s; written by the runner (test/faults/global-setup.ts), do not edit by hand.`,
    '',
    'Every case is a real run of the workflow (statemachine/host-recovery.asl.json, and for the `drain` cases statemachine/host-drain.asl.json, on the embedded engine) against the simulated cloud on 127.0.0.1; the `ipmi-relay` cases fence through the bastion relay to real `ipmi_sim` BMCs, and the `engine-kill` cases SIGKILL a separate engine process (the durable local engine) and start it again. The counters come from what the cloud and the BMCs saw:',
    '',
    '- **unverified**: evacuations Nova accepted while the source host was powered on, or before any power reading of it had returned off. Must be 0.',
    '- **double**: instances evacuated more than once from the same host (an evacuation that found no valid host and moved nothing does not count). Must be 0.',
    '- **over budget**: hosts powered off beyond the mass-failure budget (`intake.protection.maxDownShare` of the fleet). Must be 0.',
    '- **migrated+evacuated**: instances both moved by a drain (a live or cold migration that did not end in error) and evacuated, plus evacuations Nova accepted while the instance was being live-migrated. Must be 0.',
    '- **completed**: recoveries that completed (every selected instance recovered; for the `drain` cases, drains that emptied their host), as actual/expected. Must match.',
    '',
    `Totals: ${t.passed} of ${t.cases} cases passed; unverified ${t.unverified}, double ${t.double}, over budget ${t.overBudget}, migrated+evacuated ${t.migratedAndEvacuated}; completed ${t.completed} of ${t.expectedCompleted} expected.`,
    '',
    '| # | case | fault | expected | actual | unverified | double | over budget | migrated+evacuated | completed | result |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r, i) =>
        `| ${i + 1} | ${cell(`${r.group}/${r.name}`)} | ${cell(r.fault)} | ${cell(r.expected)} | ${cell(r.actual)} | ${n(r.counters?.unverified)} | ${n(r.counters?.double)} | ${n(r.counters?.overBudget)} | ${n(r.counters?.migratedAndEvacuated)} | ${completions(r)} | ${r.pass ? 'pass' : '**FAIL**'} |`,
    ),
    '',
  ];
  return lines.join('\n');
}
