// Step 7: one verdict for the recovery from the Map's per-instance results.
export interface SummarizeInput {
  host: string;
  selectedCount: number;
  skippedCount: number;
  results: Array<{ id: string; outcome: string; reason?: string | null }>;
}
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
  const count = (...outcomes: string[]) => input.results.filter((r) => outcomes.includes(r.outcome)).length;
  const recovered = count('recovered', 'already-recovered');
  const failedResults = input.results.filter((r) => r.outcome === 'failed');
  const gone = count('gone');
  const failed = failedResults.length;
  const outcome = failed === 0 ? 'complete' : 'incomplete';
  const message =
    outcome === 'complete'
      ? `${input.host}: ${recovered} of ${input.selectedCount} instances recovered${gone ? `, ${gone} deleted meanwhile` : ''}`
      : `${input.host}: ${failed} of ${input.selectedCount} instances NOT recovered (${recovered} recovered); first: ${failedResults
          .slice(0, 3)
          .map((r) => `${r.id}: ${r.reason ?? 'failed'}`)
          .join('; ')}`;
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
