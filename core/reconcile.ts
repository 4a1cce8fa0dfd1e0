// The reconciler (scheduled, and `freezer-dr reconcile`): leaves no host half-recovered.
// One pass reads Nova's compute services and the running executions once, resumes or
// reports every host freezer-dr took down whose recovery is not running
// (core/reconcile-hosts.ts), then repairs or reports the instances such a cut-short run
// left locked or rebuilding (core/reconcile-instances.ts). Whatever needs a person is
// sent to the notifiers as a recovery-failed report, one per host, admins only.
//
// Safe to run any number of times, at once or overlapping a recovery: it never powers
// anything, it starts at most one execution per incident (a fixed name; Step Functions
// refuses the second), and it only unlocks instances no running execution owns.
import { deliverReport } from './deliver-report.js';
import type { ExecutionsApi } from './executions.js';
import { countMetric } from './metrics.js';
import type { RecoveryReport } from './ports.js';
import { type HostFinding, markedServices, reconcileHost } from './reconcile-hosts.js';
import { type InstanceFinding, reconcileInstances } from './reconcile-instances.js';
import type { Runtime } from './runtime.js';
import { nowIso } from './time.js';

export interface ReconcileOptions {
  /** Read and report only: start nothing, unlock nothing, notify no one. */
  dryRun: boolean;
  /** Send what needs a person to the notifiers (default true; the CLI prints instead). */
  notify?: boolean;
}

export interface ReconcileReport {
  at: string;
  dryRun: boolean;
  hosts: HostFinding[];
  instances: InstanceFinding[];
  /** Findings that need a person (also sent to the notifiers unless dry-run). */
  attention: number;
  summary: string;
}

const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

function summarize(hosts: HostFinding[], instances: InstanceFinding[], attention: number): string {
  const by = <T extends { action: string }>(items: T[], action: string) =>
    items.filter((i) => i.action === action).length;
  const parts = [
    `${count(hosts.length, 'host')} taken down by freezer-dr`,
    `${by(hosts, 'resumed') + by(hosts, 'would-resume')} resumed${hosts.some((h) => h.action === 'would-resume') ? ' (dry run)' : ''}`,
    `${by(hosts, 'in-recovery')} in recovery`,
    `${by(hosts, 'awaiting-restore')} awaiting restore`,
    `${count(by(instances, 'unlocked') + by(instances, 'would-unlock'), 'instance')} unlocked${instances.some((i) => i.action === 'would-unlock') ? ' (dry run)' : ''}`,
    `${attention} need${attention === 1 ? 's' : ''} attention`,
  ];
  return parts.join(', ');
}

/** One admin-only report per host with findings that need a person. */
function attentionReports(hosts: HostFinding[], instances: InstanceFinding[], at: string): RecoveryReport[] {
  const byHost = new Map<string, { incident: string; lines: string[] }>();
  const add = (host: string, incident: string, line: string) => {
    const entry = byHost.get(host) ?? { incident, lines: [] };
    entry.lines.push(line);
    byHost.set(host, entry);
  };
  for (const h of hosts) if (h.action === 'reported') add(h.host, h.incident, h.detail);
  for (const i of instances) {
    if (i.action === 'reported')
      add(i.host ?? 'unknown-host', i.incident ?? '', `instance ${i.name} (${i.id}): ${i.detail}`);
  }
  return [...byHost].map(([host, { incident, lines }]) => ({
    kind: 'recovery-failed',
    host,
    incident,
    executionName: null,
    executionUrl: null,
    cause: `reconciler: ${lines.join(' | ')}`,
    fence: null,
    timeline: [{ stage: 'reconciled', at, detail: 'found by the reconciler; nothing was powered' }],
    instances: [],
    counts: { selected: 0, recovered: 0, failed: 0, skipped: 0 },
    startedAt: at,
    finishedAt: at,
  }));
}

export async function reconcile(
  rt: Runtime,
  executions: ExecutionsApi,
  options: ReconcileOptions,
): Promise<ReconcileReport> {
  const at = nowIso();
  const [services, running] = await Promise.all([rt.cloud.listComputeServices(), executions.listRunning()]);
  const marked = markedServices(services);
  const context = { executions, running, dryRun: options.dryRun };
  const hosts: HostFinding[] = [];
  // One host at a time: each may start an execution, and a slow BMC read must not pile up starts.
  for (const { service, incident } of marked) hosts.push(await reconcileHost(rt, service, incident, context));

  const started = hosts.flatMap((h) =>
    h.action === 'resumed' && h.executionName ? [{ name: h.executionName }] : [],
  );
  const instances = await reconcileInstances(rt, [...new Set(services.map((s) => s.host))].sort(), {
    running: [...running, ...started],
    marked: new Map(marked.map(({ service, incident }) => [service.host, incident])),
    held: new Set(hosts.filter((h) => h.remaining.length > 0).map((h) => h.host)),
    dryRun: options.dryRun,
    now: Date.now(),
  });
  const attention =
    hosts.filter((h) => h.action === 'reported').length +
    instances.filter((i) => i.action === 'reported').length;
  const report: ReconcileReport = {
    at,
    dryRun: options.dryRun,
    hosts,
    instances,
    attention,
    summary: summarize(hosts, instances, attention),
  };
  // An alarm on this metric reaches the admins even when no notifier can.
  countMetric('ReconcileAttention', attention);
  countMetric('ReconcileResumed', hosts.filter((h) => h.action === 'resumed').length);
  if (attention > 0) rt.logger.warn('reconciler: findings need attention', { summary: report.summary });
  else rt.logger.info('reconciler: done', { summary: report.summary });
  if (!options.dryRun && options.notify !== false && attention > 0) {
    for (const notice of attentionReports(hosts, instances, at)) {
      await deliverReport(rt.notifiers, notice, { logger: rt.logger });
    }
  }
  return report;
}
