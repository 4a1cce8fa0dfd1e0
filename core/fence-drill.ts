// The fence drill: read the power status of every host the fencer can power off, and
// report the BMCs that are unreachable or reject their credentials, before a real
// failure needs them. Relay fencers drill the relay's whole inventory in one call;
// other fencers are asked about every nova-compute host the cloud lists.
import type { DrillProbe, InventoryDrill } from './ports.js';
import type { Runtime } from './runtime.js';
import { nowIso } from './time.js';

export type DrillOutcome = 'ok' | 'unreachable' | 'auth-rejected' | 'failed';

export interface DrillEntry extends DrillProbe {
  outcome: DrillOutcome;
}

export interface DrillReport {
  at: string;
  fencer: string;
  source: 'relay-inventory' | 'cloud-hosts' | 'none';
  /** True when every host answered with a power state. */
  ok: boolean;
  /** Set when the drill could not run at all (relay down, cloud down). */
  error: string | null;
  entries: DrillEntry[];
  counts: Record<DrillOutcome, number>;
  summary: string;
}

const hasInventory = (fencer: unknown): fencer is InventoryDrill =>
  typeof (fencer as Partial<InventoryDrill>).drillInventory === 'function';

function outcomeOf(probe: DrillProbe): DrillOutcome {
  if (!probe.failure) return probe.state === 'on' || probe.state === 'off' ? 'ok' : 'failed';
  if (probe.failure === 'auth-failed') return 'auth-rejected';
  if (probe.failure === 'unreachable') return 'unreachable';
  return 'failed';
}

/** Fencers without an inventory: classify their error messages as best we can. */
function failureFromError(error: unknown): string {
  const failure = (error as { failure?: unknown }).failure;
  if (typeof failure === 'string') return failure;
  const message = (error as Error).message ?? '';
  if (/credential|auth|RAKP|unauthori[sz]ed/i.test(message)) return 'auth-failed';
  if (/unreachable|timed? ?out|no answer|RMCP\+ session|ECONNREFUSED/i.test(message)) return 'unreachable';
  return 'command-failed';
}

async function probeCloudHosts(
  rt: Pick<Runtime, 'fencer' | 'cloud'>,
  concurrency: number,
): Promise<DrillProbe[]> {
  const services = await rt.cloud.listComputeServices();
  const hosts = [...new Set(services.filter((s) => s.binary === 'nova-compute').map((s) => s.host))].sort();
  const probes: DrillProbe[] = new Array(hosts.length);
  let next = 0;
  const worker = async () => {
    while (next < hosts.length) {
      const index = next++;
      const host = hosts[index] as string;
      const started = performance.now();
      const controller = rt.fencer.describe(host);
      const ms = () => Math.round(performance.now() - started);
      try {
        const state = await rt.fencer.powerStatus(host);
        probes[index] = { host, controller, state, failure: null, message: null, ms: ms() };
      } catch (error) {
        const message = (error as Error).message;
        probes[index] = {
          host,
          controller,
          state: null,
          failure: failureFromError(error),
          message,
          ms: ms(),
        };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, hosts.length) }, worker));
  return probes;
}

export async function runFenceDrill(
  rt: Pick<Runtime, 'fencer' | 'cloud' | 'logger'>,
  options: { concurrency?: number } = {},
): Promise<DrillReport> {
  const base = { at: nowIso(), fencer: rt.fencer.kind };
  const counts: Record<DrillOutcome, number> = { ok: 0, unreachable: 0, 'auth-rejected': 0, failed: 0 };
  if (rt.fencer.recordOnly) {
    const summary = `fencer ${rt.fencer.kind} is RECORD-ONLY: no power controller to drill`;
    rt.logger.warn('fence drill', { summary });
    return { ...base, source: 'none', ok: true, error: null, entries: [], counts, summary };
  }
  const source = hasInventory(rt.fencer) ? 'relay-inventory' : 'cloud-hosts';
  let probes: DrillProbe[];
  try {
    probes = hasInventory(rt.fencer)
      ? await rt.fencer.drillInventory()
      : await probeCloudHosts(rt, options.concurrency ?? 4);
  } catch (error) {
    const message = (error as Error).message;
    rt.logger.error('fence drill could not run', { fencer: rt.fencer.kind, error: message });
    return {
      ...base,
      source,
      ok: false,
      error: message,
      entries: [],
      counts,
      summary: `drill failed: ${message}`,
    };
  }
  const entries = probes.map((probe) => ({ ...probe, outcome: outcomeOf(probe) }));
  for (const entry of entries) {
    counts[entry.outcome] += 1;
    if (entry.outcome !== 'ok') {
      rt.logger.warn('fence drill: power controller not usable', {
        host: entry.host,
        controller: entry.controller,
        outcome: entry.outcome,
        error: entry.message,
      });
    }
  }
  const ok = entries.length > 0 && counts.ok === entries.length;
  const summary =
    entries.length === 0
      ? 'no hosts to drill'
      : `${counts.ok}/${entries.length} power controllers answered; ${counts.unreachable} unreachable, ${counts['auth-rejected']} rejected credentials, ${counts.failed} failed`;
  rt.logger.info('fence drill', { fencer: rt.fencer.kind, source, ok, counts });
  return { ...base, source, ok, error: null, entries, counts, summary };
}

/** Plain-text rendering for the CLI: one line per host, problems first. */
export function formatDrillReport(report: DrillReport): string {
  const order: Record<DrillOutcome, number> = { 'auth-rejected': 0, unreachable: 1, failed: 2, ok: 3 };
  const lines = [...report.entries]
    .sort((a, b) => order[a.outcome] - order[b.outcome] || a.host.localeCompare(b.host))
    .map((e) => {
      const detail = e.outcome === 'ok' ? `power ${e.state}` : (e.message ?? e.outcome);
      return `${e.outcome.padEnd(13)} ${e.host.padEnd(24)} ${e.controller} (${e.ms} ms): ${detail}`;
    });
  return [
    `fence drill (${report.fencer}, ${report.source}) at ${report.at}: ${report.summary}`,
    ...lines,
  ].join('\n');
}
