// freezer-dr's drain on the lab, for bench/lab-drain.bench.ts: N servers booted on the
// host, then the host-drain workflow started as `freezer-dr drain <host>` starts it against
// a running serve (StartExecution on the local drain state machine; the shipped drain
// settings unless told otherwise), timed from the start to the last VerifyMigration exit. Each run ends with the host re-enabled and
// the servers deleted.
import { sleep } from '../core/time.js';
import type { StoredEvent } from '../engine/history.js';
import { type LabNova, until } from '../test/lab/lab-nova.js';
import { type LabStack, startLabStack } from '../test/lab/lab-stack.js';

export interface DrainRun {
  /** Start -> last instance verified. */
  seconds: number;
  /** Start -> the execution's end (notifications sent). */
  executionSeconds: number;
  status: string;
  /** Start -> last MigrateInstance exit (every os-migrateLive answered). */
  lastPosted: number;
  destinations: Record<string, number>;
  /** Instances evacuated, or live-migrated more than once, or left on the host (must be 0). */
  unsafe: number;
}

export interface DrainRunner {
  /** The drain section the runs use, as the runtime parsed it. */
  settings: Record<string, unknown>;
  run(): Promise<DrainRun>;
  close(): Promise<void>;
}

const lastExit = (events: StoredEvent[], name: string) =>
  Math.max(
    ...events
      .filter((e) => e.type === 'StateExited' && 'state' in e && e.state.name === name)
      .map((e) => e.timestamp),
  );

export async function drainRunner(options: {
  nova: LabNova;
  host: string;
  servers: number;
  say: (line: string) => void;
  drain?: Record<string, unknown>;
}): Promise<DrainRunner> {
  const { nova, host, say } = options;
  const stack: LabStack = await startLabStack(options.drain ? { drain: options.drain } : {});
  const { maxConcurrency, pollSeconds, timeoutSeconds, coldMigrateStopped } = stack.rt.config.drain;
  return {
    settings: { maxConcurrency, pollSeconds, timeoutSeconds, coldMigrateStopped },
    async run() {
      const prefix = 'bench-drain-';
      const ids = await nova.bootActive(
        Array.from({ length: options.servers }, (_, i) => ({ name: `${prefix}${i + 1}`, host })),
      );
      await sleep(3000); // let the boot traffic settle before the clock starts
      try {
        const t0 = Date.now();
        const name = await stack.startDrain(host, `bench: ${host} degraded (corrected ECC storm)`);
        const outcome = await until(
          'the drain to end',
          async () => {
            const described = await stack.describe(name, 'drain');
            return described.status !== 'RUNNING' ? described : null;
          },
          600_000,
          250,
        );
        const end = Date.now();
        const events = stack.executions.events(name);
        const seconds = (lastExit(events, 'VerifyMigration') - t0) / 1000;
        const lastPosted = (lastExit(events, 'MigrateInstance') - t0) / 1000;
        const destinations: Record<string, number> = {};
        let unsafe = 0;
        for (const id of ids) {
          const server = await nova.cloud.getServer(id);
          const to = server?.host ?? 'gone';
          destinations[to] = (destinations[to] ?? 0) + 1;
          const records = await nova.cloud.listMigrations({ instanceId: id });
          const live = records.filter((m) => m.migrationType === 'live-migration');
          const evacuated = records.some((m) => m.migrationType === 'evacuation');
          if (evacuated || live.length !== 1 || to === host || server?.status !== 'ACTIVE') unsafe += 1;
        }
        const run: DrainRun = {
          seconds,
          executionSeconds: (end - t0) / 1000,
          status: `${outcome.status}${outcome.error ? ` ${outcome.error}: ${(outcome.cause ?? '').slice(0, 200)}` : ''}`,
          lastPosted,
          destinations,
          unsafe,
        };
        say(
          `    start -> last os-migrateLive answered ${run.lastPosted.toFixed(2)} s, last verified ${run.seconds.toFixed(2)} s, execution ${run.status} at ${run.executionSeconds.toFixed(2)} s; ${Object.entries(
            destinations,
          )
            .sort()
            .map(([h, n]) => `${h} x${n}`)
            .join(', ')}; unsafe ${unsafe}`,
        );
        return run;
      } finally {
        const service = await nova.service(host);
        if (service.status === 'disabled') {
          await nova.cloud.updateComputeService(service.id, { status: 'enabled' });
        }
        await nova.deleteServers(ids);
      }
    },
    close: () => stack.close(),
  };
}
