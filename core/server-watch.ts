// The per-instance reads of a recovery, shared. EvacuateInstance reads each server and its
// evacuation records just before the evacuate call, and VerifyInstance polls each server until
// it settles; one GET per instance per read is what loads nova-api most while Nova is busy
// rebuilding (on a 2-core lab enough to slow the rebuilds themselves). Where several run in
// one process (`npm start`), one tick reads every host involved with one list call each (the
// failed host, the planned targets) and the failed host's evacuation records with one more,
// and answers every caller from them; an instance found on none of the hosts (the scheduler
// chose another, or it was deleted) is read on its own, and a lone caller simply reads its
// own. Nothing is cached: every answer comes from a read made after the question was asked.
import type { Cloud, Migration, Server } from './ports.js';

interface Pending<T> {
  hosts: string[];
  waiters: ((result: T) => void)[];
  failures: ((error: unknown) => void)[];
}

type Reader = Pick<Cloud, 'getServer' | 'listServersOnHost' | 'listEvacuations'>;

export class ServerWatch {
  private servers = new Map<string, Pending<Server | undefined>>();
  /** Evacuation records wanted, by instance; `hosts` holds the one source host asked about. */
  private evacuations = new Map<string, Pending<Migration[]>>();
  private timer: NodeJS.Timeout | null = null;
  /** List calls made, single reads made: lets tests and benchmarks see the load. */
  readonly calls = { lists: 0, singles: 0 };

  /** @param gatherMs how long a tick waits for other callers to join before it reads. */
  constructor(
    private readonly cloud: Reader,
    private readonly gatherMs = 25,
  ) {}

  /** The server as Nova shows it now (undefined: it no longer exists). `hosts`: where it may be. */
  read(id: string, hosts: (string | null | undefined)[]): Promise<Server | undefined> {
    return this.enqueue(this.servers, id, hosts);
  }

  /** The instance's evacuation records from `source`, as Nova has them now. */
  evacuationsFrom(id: string, source: string): Promise<Migration[]> {
    return this.enqueue(this.evacuations, id, [source]);
  }

  private enqueue<T>(
    queue: Map<string, Pending<T>>,
    id: string,
    hosts: (string | null | undefined)[],
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      const entry = queue.get(id) ?? { hosts: [], waiters: [], failures: [] };
      for (const host of hosts) if (host && !entry.hosts.includes(host)) entry.hosts.push(host);
      entry.waiters.push(resolve);
      entry.failures.push(reject);
      queue.set(id, entry);
      this.timer ??= setTimeout(() => void this.tick(), this.gatherMs);
    });
  }

  private async tick(): Promise<void> {
    const servers = this.servers;
    const evacuations = this.evacuations;
    this.servers = new Map();
    this.evacuations = new Map();
    this.timer = null;
    await Promise.all([this.readServers(servers), this.readEvacuations(evacuations)]);
  }

  private async readServers(batch: Map<string, Pending<Server | undefined>>): Promise<void> {
    if (batch.size > 1) {
      const hosts = [...new Set([...batch.values()].flatMap((e) => e.hosts))];
      try {
        const lists = await Promise.all(hosts.map((host) => this.cloud.listServersOnHost(host)));
        this.calls.lists += hosts.length;
        const found = new Map(lists.flat().map((server) => [server.id, server]));
        for (const [id, entry] of [...batch]) {
          const server = found.get(id);
          if (server) settle(batch, id, entry, server);
        }
      } catch {
        // Read each one on its own below.
      }
    }
    await this.singles(batch, (id) => this.cloud.getServer(id));
  }

  private async readEvacuations(batch: Map<string, Pending<Migration[]>>): Promise<void> {
    const sources = [...new Set([...batch.values()].map((e) => e.hosts[0] as string))];
    if (batch.size > 1 && sources.length === 1) {
      try {
        const rows = await this.cloud.listEvacuations({ sourceCompute: sources[0] as string });
        this.calls.lists += 1;
        for (const [id, entry] of [...batch])
          settle(
            batch,
            id,
            entry,
            rows.filter((m) => m.instanceId === id),
          );
      } catch {
        // Read each one on its own below.
      }
    }
    await this.singles(batch, (id, entry) =>
      this.cloud.listEvacuations({ instanceId: id, sourceCompute: entry.hosts[0] as string }),
    );
  }

  private async singles<T>(
    batch: Map<string, Pending<T>>,
    read: (id: string, entry: Pending<T>) => Promise<T>,
  ): Promise<void> {
    await Promise.all(
      [...batch].map(async ([id, entry]) => {
        try {
          this.calls.singles += 1;
          settle(batch, id, entry, await read(id, entry));
        } catch (error) {
          for (const reject of entry.failures) reject(error);
        }
      }),
    );
  }
}

function settle<T>(batch: Map<string, Pending<T>>, id: string, entry: Pending<T>, value: T): void {
  for (const resolve of entry.waiters) resolve(value);
  batch.delete(id);
}

const watches = new WeakMap<object, ServerWatch>();

/** The watch of one cloud driver: every VerifyInstance of the process that uses it shares it. */
export function serverWatch(cloud: Cloud): ServerWatch {
  let watch = watches.get(cloud);
  if (!watch) {
    watch = new ServerWatch(cloud);
    watches.set(cloud, watch);
  }
  return watch;
}
