// Where a re-driven execution picks up: the top-level state its last run was in when the
// process died, with the input that state had, or the state after the last one that
// finished. Steps that had finished are not run again; the one that was running is (every
// step is idempotent, so a half-done step is finished, not repeated).
import type { StoredEvent } from './history.js';

export interface ResumePoint {
  state: string;
  input: unknown;
}

/** null: nothing had run, or it stopped right after a Choice; start from the top. */
export function resumePoint(
  events: readonly StoredEvent[],
  definition: { States: object },
): ResumePoint | null {
  const states = definition.States as Record<string, { Next?: unknown }>;
  let open: ResumePoint | null = null;
  let lastExited: { state: string; output: unknown } | null = null;
  for (const event of events) {
    if (event.type !== 'StateEntered' && event.type !== 'StateExited') continue;
    if (event.index !== undefined || !(event.state.name in states)) continue;
    if (event.type === 'StateEntered') {
      open = { state: event.state.name, input: event.state.input };
    } else {
      if (open?.state === event.state.name) open = null;
      lastExited = { state: event.state.name, output: event.state.output };
    }
  }
  if (open) return open;
  const next = lastExited ? states[lastExited.state]?.Next : undefined;
  return lastExited && typeof next === 'string' ? { state: next, input: lastExited.output } : null;
}
