// Step 7: one verdict for the recovery from the Map's per-instance results.
/** An instance's result in the state: VerifyInstance's {id, outcome, seconds, reason}, or InstanceFailed's {id, outcome, error}. */
type InstanceResult = { id: string; outcome: string; reason?: string | null; error?: string };

export interface SummarizeInput {
  host: string;
  selectedCount: number;
  skippedCount: number;
  /** One array per restart-priority wave (a flat list is accepted too). */
  results: Array<InstanceResult | InstanceResult[]>;
  /** Selected instances the plan found no room for: not recovered. */
  unplacedCount?: number;
}

/** The Map of waves returns one array per wave. */
export const flattenResults = <T>(results: ReadonlyArray<T | T[]>): T[] =>
  results.flatMap((r) => (Array.isArray(r) ? r : [r]));
export interface Summary {
  outcome: 'complete' | 'incomplete';
  selected: number;
  recovered: number;
  failed: number;
  skipped: number;
  gone: number;
  failedIds: string[];
  message: string;
}

const MAX_LISTED = 50;

export function summarize(input: SummarizeInput): Summary {
  const results = flattenResults(input.results);
  const count = (...outcomes: string[]) => results.filter((r) => outcomes.includes(r.outcome)).length;
  const recovered = count('recovered', 'already-recovered');
  const failedResults = results.filter((r) => r.outcome === 'failed');
  const gone = count('gone');
  const failed = failedResults.length + (input.unplacedCount ?? 0);
  const outcome = failed === 0 ? 'complete' : 'incomplete';
  const message =
    outcome === 'complete'
      ? `${input.host}: ${recovered} of ${input.selectedCount} instances recovered${gone ? `, ${gone} deleted meanwhile` : ''}`
      : `${input.host}: ${failed} of ${input.selectedCount} instances NOT recovered (${recovered} recovered); first: ${failedResults
          .slice(0, 3)
          .map((r) => `${r.id}: ${r.reason ?? r.error ?? 'failed'}`)
          .join(
            '; ',
          )}${input.unplacedCount ? `; ${input.unplacedCount} without room on the hosts left` : ''}`;
  return {
    outcome,
    selected: input.selectedCount,
    recovered,
    failed,
    skipped: input.skippedCount,
    gone,
    failedIds: failedResults.slice(0, MAX_LISTED).map((r) => r.id),
    message,
  };
}
