// Instance names for the executions page and `executions show`/`watch`: the history holds
// ids only, and an operator recognises "db-1", not a UUID. Names never change, so each is
// looked up once per process: first with one list per host involved (the failed host and
// the targets hold nearly every instance of a recovery, so a thousand instances cost a few
// lists, not a thousand reads), then one read each for the few found on none of them.

/** The two reads this needs; any cloud driver has them. */
export interface NameSource {
  listServersOnHost(host: string): Promise<{ id: string; name: string }[]>;
  getServer(id: string): Promise<{ id: string; name: string } | undefined>;
}

/** What a lookup needs to know of an instance: its id and the hosts it may be on. */
export interface NamedInstance {
  id: string;
  from: string | null;
  to: string | null;
  target: string | null;
}

/** Single reads per call, at most: the rest wait for the next call (the page reloads). */
const MAX_SINGLE_READS = 200;
const PARALLEL_READS = 20;

/**
 * A lookup that remembers: ids it found, and ids Nova no longer knows (deleted), are never
 * asked again; a read that failed is asked again next time.
 */
export function instanceNames(cloud: NameSource) {
  const names = new Map<string, string>();
  const nameless = new Set<string>();
  return async (instances: readonly NamedInstance[]): Promise<Map<string, string>> => {
    const wanted = () => instances.filter((i) => !names.has(i.id) && !nameless.has(i.id));
    const hosts = new Set(wanted().flatMap((i) => [i.from, i.to, i.target]));
    for (const host of hosts) {
      if (!host || !wanted().length) continue;
      const servers = await cloud.listServersOnHost(host).catch(() => []);
      for (const server of servers) names.set(server.id, server.name);
    }
    const missing = wanted().slice(0, MAX_SINGLE_READS);
    for (let i = 0; i < missing.length; i += PARALLEL_READS) {
      await Promise.all(
        missing.slice(i, i + PARALLEL_READS).map(async ({ id }) => {
          const server = await cloud.getServer(id).catch(() => null);
          if (server) names.set(id, server.name);
          else if (server === undefined) nameless.add(id);
        }),
      );
    }
    return names;
  };
}
