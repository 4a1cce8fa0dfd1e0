// State: VerifyMigration. One read per call: has the instance landed? Live: its migration
// record reads completed, it runs on another host, with the same id and the same power state.
// Cold: it reads VERIFY_RESIZE on another host (then the resize is confirmed) and ends
// SHUTOFF there. Not yet: `done: false`, and the workflow waits durably (WaitForMigration)
// before asking again; no function idles. An instance that cannot move stays where it is,
// reported with the reason; a host that dies meanwhile ends the wait at once (the recovery
// takes over, and never evacuates an instance whose migration is still in flight).

import { countMetric } from '../metrics.js';
import type { Migration, Server } from '../ports.js';
import type { Runtime } from '../runtime.js';
import { secondsSince } from '../time.js';
import { migrationInFlight, readDrainHost } from './host-state.js';
import { type MigrateResult, powerStatus } from './migrate-instance.js';

export const DRAIN_OUTCOMES = ['migrated', 'already-moved', 'not-migrated', 'gone'] as const;
export type DrainOutcome = (typeof DRAIN_OUTCOMES)[number];

export interface VerifyMigrationInput {
  id: string;
  host: string;
  migration: MigrateResult;
}
export interface VerifyMigrationResult {
  id: string;
  done: boolean;
  /** Set when done. */
  outcome: DrainOutcome | null;
  to: string | null;
  seconds: number;
  reason: string | null;
  /** State: WaitForMigration's SecondsPath when not done. */
  waitSeconds: number;
}

const MAX_REASON = 96;

/**
 * State: WaitBeforeNextCheck. Short waits while the migration is young, longer ones as it
 * goes on (a quarter of its age, whole seconds): a quick one is seen done about a second
 * after it lands, so the next call reaches Nova's per-source queue before it runs dry. The
 * longest wait is pollSeconds × maxConcurrency: Nova moves one instance at a time per source
 * (max_concurrent_live_migrations), so the others in flight wait in its queue, and the drain
 * as a whole still reads about once per pollSeconds; that keeps a large host within the
 * execution's 25,000 history events (docs/drain.md).
 */
export const nextWait = (ageSeconds: number, pollSeconds: number, maxConcurrency = 1) =>
  Math.max(1, Math.min(pollSeconds * maxConcurrency, Math.round(ageSeconds / 4)));
const clip = (reason: string | null) =>
  reason && reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON - 1)}…` : reason;

/** The newest migration of this kind from the host started for this move (records are newest first). */
function recordOf(
  all: Migration[],
  host: string,
  kind: 'live' | 'cold',
  startedAt: string,
): Migration | undefined {
  const type = kind === 'live' ? 'live-migration' : 'migration';
  const since = Date.parse(startedAt) - 60_000; // a record made by an earlier run of this step counts too
  return (
    all.find(
      (m) => m.migrationType === type && m.sourceCompute === host && Date.parse(m.createdAt) >= since,
    ) ?? all.find((m) => m.migrationType === type && m.sourceCompute === host)
  );
}

export async function verifyMigration(
  rt: Runtime,
  input: VerifyMigrationInput,
): Promise<VerifyMigrationResult> {
  const { id, host, migration } = input;
  const policy = rt.config.drain;
  const done = (outcome: DrainOutcome, to: string | null, reason: string | null): VerifyMigrationResult => {
    countMetric(`Drain_${outcome}`);
    if (reason && reason.length > MAX_REASON) rt.logger.info('drain outcome', { id, outcome, reason });
    return {
      id,
      done: true,
      outcome,
      to,
      seconds: secondsSince(migration.startedAt),
      reason: clip(reason),
      waitSeconds: 0,
    };
  };
  switch (migration.action) {
    case 'gone':
      return done('gone', null, 'deleted');
    case 'refused':
      return done('not-migrated', null, migration.reason ?? 'Nova refused the migration');
    case 'host-down':
      return done('not-migrated', null, migration.reason ?? 'the host went down before it moved');
    default:
      break;
  }
  const server: Server | undefined = await rt.cloud.getServer(id);
  if (!server) return done('gone', null, 'deleted during the drain');
  const prior = migration.prior === 'VERIFY_RESIZE' ? 'SHUTOFF' : (migration.prior ?? 'ACTIVE');
  const moved = server.host !== null && server.host !== host;
  if (migration.action === 'already-moved') {
    return done('already-moved', server.host, moved ? null : 'back on the drained host');
  }
  const kind = migration.kind ?? 'live';
  const all = (await rt.cloud.listMigrations?.({ instanceId: id })) ?? [];
  const record = recordOf(all, host, kind, migration.startedAt);
  const pending = (): VerifyMigrationResult => ({
    id,
    done: false,
    outcome: null,
    to: null,
    seconds: secondsSince(migration.startedAt),
    reason: null,
    waitSeconds: nextWait(secondsSince(migration.startedAt), policy.pollSeconds, policy.maxConcurrency),
  });

  if (kind === 'cold' && moved && server.status === 'VERIFY_RESIZE') {
    // Confirmed once: only a record that reads 'finished' (not yet 'confirming') is confirmed.
    if (record?.status === 'finished' && rt.cloud.confirmResize) {
      await rt.cloud.confirmResize(id);
      return pending();
    }
    // The confirmation runs on the source: a source that died leaves it 'confirming' for
    // good, so the host's health and the timeout end this wait too (the guest is already on
    // the destination; the recovery leaves it there).
    const { health } = await readDrainHost(rt, host);
    const waited = secondsSince(migration.startedAt) > policy.timeoutSeconds;
    if (!health.down && !waited) return pending();
    return done(
      'not-migrated',
      server.host,
      `on ${server.host} awaiting its resize confirmation (${record?.status ?? 'not recorded'}), which ${
        health.down ? `${host} went down before it ran` : `did not end within ${policy.timeoutSeconds} s`
      }`,
    );
  }
  const settled = moved && !server.taskState && (kind === 'cold' ? server.status !== 'VERIFY_RESIZE' : true);
  const recordDone = record
    ? record.status === 'completed' || record.status === 'confirmed' || record.status === 'done'
    : kind === 'cold';
  if (settled && recordDone) {
    const now = powerStatus(server);
    if (now === prior) return done('migrated', server.host, null);
    return done(
      'not-migrated',
      server.host,
      `moved to ${server.host} but reads ${server.status} (was ${prior})`,
    );
  }
  if (record && !migrationInFlight(record.status) && !recordDone && !moved && !server.taskState) {
    return done('not-migrated', null, `${kind} migration ${record.status}: it stays on ${host}`);
  }
  const { health } = await readDrainHost(rt, host);
  if (health.down && !moved) {
    // Left to the recovery, which waits for an in-flight migration to finish before it evacuates.
    return done(
      'not-migrated',
      null,
      `host went down during the migration (${record?.status ?? 'no record yet'})`,
    );
  }
  if (secondsSince(migration.startedAt) > policy.timeoutSeconds) {
    return done(
      'not-migrated',
      moved ? server.host : null,
      `not completed after ${policy.timeoutSeconds} s (migration ${record?.status ?? 'not recorded'}, ${server.status})`,
    );
  }
  return pending();
}
