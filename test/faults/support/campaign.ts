// A fault case is a vitest test that also leaves one row for the campaign's table
// (test/faults/global-setup.ts prints them and writes docs/fault-campaign.md). Whatever
// the case's own expectations say, its counters must be zero and its completed recoveries
// must be the number expected, or the case fails.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { type Counters, countersOf, type Evidence } from './counters.js';
import { RESULTS_ENV } from './results-dir.js';

export interface CaseSpec {
  name: string;
  /** What is injected. */
  fault: string;
  /** What freezer-dr must do about it. */
  expected: string;
  /** Recoveries that should complete. */
  completions: number;
  timeoutMs?: number;
}

export interface CaseContext {
  /** Where the counters come from; registered as soon as the case's world exists. */
  witness(evidence: () => Evidence): void;
}

export interface CaseOutcome {
  /** What happened, in one line. */
  actual: string;
  /** Recoveries that completed. */
  completed: number;
}

export interface CaseRow {
  group: string;
  order: number;
  name: string;
  fault: string;
  expected: string;
  actual: string;
  counters: Counters | null;
  completions: { expected: number; actual: number | null };
  pass: boolean;
  ms: number;
}

const ZERO: Counters = { unverified: 0, double: 0, overBudget: 0, migratedAndEvacuated: 0 };

function record(row: CaseRow): void {
  const dir = process.env[RESULTS_ENV];
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${row.group}-${String(row.order).padStart(3, '0')}.json`), JSON.stringify(row));
}

/** The case registrar of one group of the table (one test file). */
export function faultGroup(group: string) {
  let order = 0;
  return (spec: CaseSpec, body: (c: CaseContext) => Promise<CaseOutcome>) => {
    const position = order++;
    it(spec.name, { timeout: spec.timeoutMs ?? 60_000 }, async () => {
      const started = Date.now();
      let evidence: (() => Evidence) | null = null;
      let outcome: CaseOutcome | null = null;
      let failure: unknown = null;
      try {
        outcome = await body({ witness: (provider) => (evidence = provider) });
      } catch (error) {
        failure = error;
      }
      const counters = evidence ? countersOf((evidence as () => Evidence)()) : null;
      const countersOk = counters !== null && Object.values(counters).every((n) => n === 0);
      const completionsOk = outcome?.completed === spec.completions;
      record({
        group,
        order: position,
        name: spec.name,
        fault: spec.fault,
        expected: spec.expected,
        actual:
          outcome?.actual ?? `case failed: ${String((failure as Error)?.message ?? failure).split('\n')[0]}`,
        counters,
        completions: { expected: spec.completions, actual: outcome?.completed ?? null },
        pass: failure === null && countersOk && completionsOk,
        ms: Date.now() - started,
      });
      if (failure) throw failure;
      expect(counters, 'unverified / double / over-budget / migrated-and-evacuated counters').toEqual(ZERO);
      expect(outcome?.completed, 'recoveries completed').toBe(spec.completions);
    });
  };
}
