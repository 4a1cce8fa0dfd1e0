// One read of Nova's compute services and the running recoveries, shared by every alert
// of a request and, for snapshotCacheMs, by concurrent requests (single flight): an
// alert storm costs Nova and Step Functions a few calls per second, not one per alert.
// Past the TTL the old read is still served (for up to two more TTLs) while one refresh
// runs, so a storm never queues behind a Nova round trip; older than that, callers wait,
// and a failing Nova then fails the request (closed). Slightly old reads are safe: the
// workflow confirms the failure against Nova again before it fences.

import { executionName, isExecutionOfHost } from '../executions.js';
import type { ComputeService } from '../ports.js';

export interface FleetSnapshot {
  services: ComputeService[];
  byHost: Map<string, ComputeService>;
  running: { name: string; startDate: Date | null }[];
  /** The first running execution of each host key (its name up to "--"): one lookup per alert, not a scan. */
  runningByHostKey: Map<string, { name: string; startDate: Date | null }>;
  readAt: number;
}

/** An execution name's host key: up to its first "--" (a key never contains one; see executionName). */
function hostKeyOf(name: string): string {
  const at = name.indexOf('--');
  return at < 0 ? name : name.slice(0, at);
}

/** The running execution recovering `host`, if any (the first listed, as a scan would find). */
export function runningOf(snapshot: FleetSnapshot, host: string) {
  const found = snapshot.runningByHostKey.get(hostKeyOf(executionName(host, '')));
  return found && isExecutionOfHost(found.name, host) ? found : undefined;
}

export type SnapshotLoader = () => Promise<Pick<FleetSnapshot, 'services' | 'running'>>;

export class SnapshotReader {
  private current: FleetSnapshot | null = null;
  private inFlight: Promise<FleetSnapshot> | null = null;

  constructor(
    private readonly load: SnapshotLoader,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(): Promise<FleetSnapshot> {
    const age = this.current ? this.now() - this.current.readAt : Number.POSITIVE_INFINITY;
    if (this.current && age < this.ttlMs) return Promise.resolve(this.current);
    const refresh = this.refresh();
    if (this.current && age < this.ttlMs * 3) {
      refresh.catch(() => undefined); // the next caller past the limit sees the failure
      return Promise.resolve(this.current);
    }
    return refresh;
  }

  private refresh(): Promise<FleetSnapshot> {
    if (!this.inFlight) {
      const readAt = this.now();
      this.inFlight = this.load()
        .then(({ services, running }) => {
          const byHost = new Map<string, ComputeService>();
          for (const service of services) if (!byHost.has(service.host)) byHost.set(service.host, service);
          const runningByHostKey = new Map<string, FleetSnapshot['running'][number]>();
          for (const execution of running) {
            const key = hostKeyOf(execution.name);
            if (!runningByHostKey.has(key)) runningByHostKey.set(key, execution);
          }
          this.current = { services, byHost, running, runningByHostKey, readAt };
          return this.current;
        })
        .finally(() => {
          this.inFlight = null;
        });
    }
    return this.inFlight;
  }
}
