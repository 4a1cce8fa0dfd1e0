// SIMULATED live and cold migration, in the steps Nova 26.2.2 takes (read in its source:
// api/openstack/compute/migrate_server.py, compute/api.py, conductor/manager.py,
// conductor/tasks/live_migrate.py, compute/manager.py). The API's synchronous refusals
// live in server.ts; this is what happens after the 202.
//
// Live: the conductor records 'accepted', checks the source service is up and picks (or
// filters) the destination; a failed check is 'error' with the instance ACTIVE where it
// was. The source compute then moves the record queued -> preparing -> running, and its
// post-migration step lands the instance (same id, still ACTIVE) and marks 'completed'.
// A dead source compute leaves the record where it stands: 'accepted' while the conductor's
// pre-check waits for it (rpc_response_timeout, then 'error' with the instance in ERROR;
// a source back in time lets the move go on), or queued/preparing/running for good ('running' becomes 'error' when it
// restarts: state.startCompute).
// Cold: pre-migrating -> migrating -> post-migrating -> finished, the instance on its new
// host in VERIFY_RESIZE; confirmResize (run by the source compute) makes it 'confirmed'
// and gives the instance back its power state.
import type { SimMigration, SimServer, SimulatedCloudState } from './state.js';

const usable = (state: SimulatedCloudState, name: string): boolean => {
  const host = state.hosts.get(name);
  return host !== undefined && host.status === 'enabled' && state.serviceState(host) === 'up';
};

/** What the conductor's checks say before anything moves; null when the move may go on. */
export function liveMigrationPrecheck(
  state: SimulatedCloudState,
  server: SimServer,
  target: string | null,
): { reason: string; dest: null } | { reason: null; dest: string } {
  const source = state.host(server.host);
  if (state.serviceState(source) !== 'up') {
    return { reason: `Compute service of ${source.name} is unavailable at this time.`, dest: null };
  }
  const fault = server.liveMigrationFault;
  if (fault && typeof fault === 'object' && 'precheck' in fault) {
    return { reason: `Migration pre-check error: ${fault.precheck}`, dest: null };
  }
  // Never forced (2.68 removed force): a named host still passes the scheduler's filters.
  const dest = target
    ? target !== source.name && usable(state, target)
      ? target
      : null
    : state.schedule(source.name);
  if (!dest) return { reason: 'No valid host was found. ', dest: null };
  return { reason: null, dest };
}

const touch = (migration: SimMigration, status: string) => {
  migration.status = status;
  migration.updatedAt = new Date().toISOString();
};

/** An accepted os-migrateLive: the conductor's checks, then the source compute's steps. */
export function runLiveMigration(
  state: SimulatedCloudState,
  server: SimServer,
  migration: SimMigration,
  target: string | null,
): void {
  migration.requested = { host: target, keepStopped: false };
  const { step } = stepOf(state, server);
  const stillOurs = () => server.taskState === 'migrating' && server.host === migration.sourceCompute;
  state.later(step, () => {
    if (!stillOurs() || migration.status !== 'accepted') return;
    const check = liveMigrationPrecheck(state, server, target);
    if (check.dest === null) {
      migration.failureReason = check.reason;
      touch(migration, 'error');
      server.taskState = null;
      return;
    }
    migration.destCompute = check.dest;
    if (!state.host(migration.sourceCompute).alive) {
      // Nova still reports the dead source up: the conductor's pre-check calls it and waits
      // rpc_response_timeout. Back in time, the source answers and the move goes on (even if
      // the instance was evacuated meanwhile: test/lab found this); otherwise 'error'.
      // On the lab the destination's call to the dead source times out first and comes
      // back to the conductor as a RemoteError, which it handles as an unexpected failure:
      // record 'error' AND the instance in ERROR (seen three times, 2026-12-02).
      migration.awaitingSource = true;
      state.later(state.options.rpcTimeoutMs, () => {
        if (migration.status !== 'accepted' || !migration.awaitingSource) return;
        migration.awaitingSource = false;
        migration.failureReason =
          'Remote error: MessagingTimeout Timed out waiting for a reply (the source did not answer the pre-check)';
        touch(migration, 'error');
        if (stillOurs()) {
          server.taskState = null;
          server.vmState = 'error';
        }
      });
      return;
    }
    sourceSteps(state, server, migration);
  });
}

function stepOf(state: SimulatedCloudState, server: SimServer) {
  const duration = server.liveMigrateMs ?? state.options.liveMigrateMs;
  return { duration, step: Math.max(1, Math.floor(duration / 10)) };
}

/**
 * The source compute's part: queued -> preparing -> running -> completed. Each step is the
 * source's own: a source that dies leaves the record where it stands.
 */
function sourceSteps(state: SimulatedCloudState, server: SimServer, migration: SimMigration): void {
  const { duration, step } = stepOf(state, server);
  const sourceAlive = () => state.host(migration.sourceCompute).alive;
  const going = () => sourceAlive() && !['error', 'completed'].includes(migration.status);
  touch(migration, 'queued');
  state.later(step, () => {
    if (going()) touch(migration, 'preparing');
  });
  state.later(step * 3, () => {
    if (!going() || migration.status !== 'preparing') return;
    touch(migration, 'running');
    if (server.liveMigrationFault === 'fail') {
      state.later(step, () => {
        if (!sourceAlive() || migration.status !== 'running') return;
        // _rollback_live_migration: the instance stays running on its source.
        migration.failureReason = 'Live migration failed (injected)';
        touch(migration, 'error');
        server.taskState = null;
      });
    }
  });
  state.later(duration, () => finishLiveMigration(state, server, migration));
}

/** The source's nova-compute started again: a pre-check call still waiting gets its answer. */
export function resumeAwaitingSource(state: SimulatedCloudState, host: string): void {
  for (const migration of state.migrations) {
    if (migration.sourceCompute !== host || !migration.awaitingSource || migration.status !== 'accepted')
      continue;
    migration.awaitingSource = false;
    const server = state.servers.get(migration.instanceId);
    if (server) sourceSteps(state, server, migration);
  }
}

function finishLiveMigration(state: SimulatedCloudState, server: SimServer, migration: SimMigration): void {
  if (migration.status !== 'running') return;
  if (server.liveMigrationFault === 'hang' || server.liveMigrationFault === 'fail') return;
  // post_live_migration runs on the source compute: dead, the record stays 'running'.
  if (!state.host(migration.sourceCompute).alive) return;
  // Lands on the destination, wherever the instance was meanwhile (an evacuated one too).
  server.host = migration.destCompute as string;
  if (server.taskState === 'migrating') server.taskState = null;
  touch(migration, 'completed');
}

const COLD_STEPS: [status: string, task: string][] = [
  ['migrating', 'resize_migrating'],
  ['post-migrating', 'resize_migrated'],
];

/** An accepted migrate (cold): scheduler, the copy, the instance in VERIFY_RESIZE on its new host. */
export function runColdMigration(
  state: SimulatedCloudState,
  server: SimServer,
  migration: SimMigration,
  target: string | null,
): void {
  migration.requested = { host: target, keepStopped: false };
  const duration = state.options.coldMigrateMs;
  const step = Math.max(1, Math.floor(duration / 4));
  state.later(step, () => {
    const source = migration.sourceCompute;
    const dest = target
      ? target !== source && usable(state, target)
        ? target
        : null
      : state.schedule(source);
    if (!dest) {
      migration.failureReason = 'No valid host was found. ';
      touch(migration, 'error');
      server.taskState = null;
      return;
    }
    migration.destCompute = dest;
    COLD_STEPS.forEach(([status, task], index) => {
      state.later(step * index, () => {
        touch(migration, status);
        server.taskState = task;
      });
    });
    state.later(duration - step, () => {
      server.resizedFrom = server.vmState === 'stopped' ? 'stopped' : 'active';
      server.host = dest;
      server.vmState = 'resized';
      server.taskState = null;
      touch(migration, 'finished');
    });
  });
}

/** confirmResize accepted: the source compute confirms (a dead one leaves it 'confirming'). */
export function runConfirmResize(
  state: SimulatedCloudState,
  server: SimServer,
  migration: SimMigration,
): void {
  touch(migration, 'confirming');
  state.later(Math.max(1, Math.floor(state.options.coldMigrateMs / 10)), () => {
    if (!state.host(migration.sourceCompute).alive) return;
    server.vmState = server.resizedFrom ?? 'active';
    delete server.resizedFrom;
    touch(migration, 'confirmed');
  });
}

/** A restored snapshot's live or cold migration goes on from its start (or its confirm). */
export function resumeMigration(
  state: SimulatedCloudState,
  server: SimServer,
  migration: SimMigration,
): void {
  const target = migration.requested?.host ?? null;
  if (migration.migrationType === 'live-migration') {
    if (!['accepted', 'queued', 'preparing', 'running'].includes(migration.status)) return;
    if (server.taskState !== 'migrating') return;
    touch(migration, 'accepted');
    runLiveMigration(state, server, migration, target);
  } else if (migration.migrationType === 'migration') {
    if (migration.status === 'confirming') runConfirmResize(state, server, migration);
    else if (['pre-migrating', 'migrating', 'post-migrating'].includes(migration.status)) {
      runColdMigration(state, server, migration, target);
    }
  }
}
