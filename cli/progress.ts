// Human-readable progress of an execution from the engine's events.
import { loadDefinition } from '../engine/definition.js';
import type { EngineEvent } from '../engine/local-engine.js';

/** The workflow's top-level states: one line each as they complete. */
const TOP_LEVEL = new Set(Object.keys(loadDefinition().States as object));

export function progressPrinter(write: (line: string) => void, startedAt = Date.now()) {
  const t = () => `${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)} s`;
  return (event: EngineEvent) => {
    if (event.type === 'StateExited' && event.state.name === 'ConfirmHostFailure') {
      const confirm = (event.state.output as { confirm?: { status?: string; evidence?: string } })?.confirm;
      if (confirm?.status === 'waiting') write(`${t()}  … ${confirm.evidence}`);
      else write(`${t()}  ✓ ConfirmHostFailure  ${confirm?.status ?? ''}: ${confirm?.evidence ?? ''}`);
    } else if (
      event.type === 'StateExited' &&
      (event.state.name === 'NovaVerdict' || event.state.name === 'WaitForNova')
    ) {
      // part of the confirmation loop, printed above
    } else if (event.type === 'StateExited' && TOP_LEVEL.has(event.state.name)) {
      const output = event.state.output as Record<string, unknown> | undefined;
      const detail =
        event.state.name === 'ConfirmHostFailure'
          ? (output?.confirm as { evidence?: string })?.evidence
          : event.state.name === 'FenceHost'
            ? (output?.fence as { controller?: string })?.controller
            : event.state.name === 'SelectInstances'
              ? `${(output?.selection as { ids?: unknown[] })?.ids?.length ?? 0} selected`
              : '';
      write(`${t()}  ✓ ${event.state.name}${detail ? `  ${detail}` : ''}`);
    } else if (event.type === 'StateExited' && event.state.name === 'VerifyInstance') {
      const r = event.state.output as { id?: string; outcome?: string; to?: string; seconds?: number };
      write(`${t()}    • ${r.id} ${r.outcome} on ${r.to ?? '-'} (${r.seconds ?? '?'} s)`);
    } else if (event.type === 'StateExited' && event.state.name === 'InstanceFailed') {
      const r = event.state.output as { id?: string; error?: string };
      write(`${t()}    ✗ ${r.id} failed: ${r.error}`);
    } else if (event.type === 'StateCaught') {
      write(`${t()}  ! ${event.state.name} caught an error`);
    }
  };
}
