// SIMULATED Nova API of the drain's actions: os-migrateLive, migrate (cold) and
// confirmResize, with the bodies each microversion's schema takes and the answers Nova
// 26.2.2 gives synchronously (api/openstack/compute/migrate_server.py, compute/api.py).
// From 2.34 the conductor's checks run after the 202: a down source or no valid host
// shows as a migration record in 'error', not as an HTTP answer (migrations.ts).
// Locks do not refuse: Nova's check_instance_lock lets an admin through, and the
// simulated Nova serves only admins.
import { atLeast } from '../openstack/microversion.js';
import { liveMigrationPrecheck, runColdMigration, runConfirmResize, runLiveMigration } from './migrations.js';
import { badRequest, conflict, invalidInput, NovaAnswer } from './nova-errors.js';
import type { SimServer, SimulatedCloudState } from './state.js';

type Json = Record<string, unknown>;

/** InstanceInvalidState as the API words it (common.raise_http_conflict_for_instance_invalid_state). */
function requireState(server: SimServer, action: string, vmStates: string[]): void {
  if (!vmStates.includes(server.vmState)) {
    throw conflict(`Cannot '${action}' instance ${server.id} while it is in vm_state ${server.vmState}`);
  }
  if (server.taskState !== null) {
    throw conflict(`Cannot '${action}' instance ${server.id} while it is in task_state ${server.taskState}`);
  }
}

const bump = (counter: Map<string, number>, id: string) => counter.set(id, (counter.get(id) ?? 0) + 1);

function liveMigrate(state: SimulatedCloudState, server: SimServer, args: unknown, microversion: string) {
  const body = (args ?? {}) as Json;
  const allowed = atLeast(microversion, '2.68')
    ? ['host', 'block_migration']
    : atLeast(microversion, '2.30')
      ? ['host', 'block_migration', 'force']
      : atLeast(microversion, '2.25')
        ? ['host', 'block_migration']
        : ['host', 'block_migration', 'disk_over_commit'];
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) {
      throw invalidInput(
        'os-migrateLive',
        body,
        `Additional properties are not allowed ('${key}' was unexpected)`,
      );
    }
  }
  for (const key of allowed.filter((k) => k !== 'force')) {
    if (!(key in body)) throw invalidInput('os-migrateLive', body, `'${key}' is a required property`);
  }
  const block = body.block_migration;
  if (!(typeof block === 'boolean' || (block === 'auto' && atLeast(microversion, '2.25')))) {
    throw invalidInput('os-migrateLive/block_migration', block, `${JSON.stringify(block)} is not valid`);
  }
  const host = typeof body.host === 'string' ? body.host : null;
  if (body.force === true && !host) throw badRequest("Can't force to a non-provided destination");
  requireState(server, 'os-migrateLive', ['active']);
  const fault = server.liveMigrationFault;
  if (fault && typeof fault === 'object' && 'refuse' in fault) {
    const { status, message } = fault.refuse;
    throw status === 409 ? conflict(message) : badRequest(message);
  }
  // ComputeHostNotFound answers 400 here (not 404 as for evacuate).
  if (host !== null && !state.hosts.has(host)) throw badRequest(`Compute host ${host} could not be found.`);
  if (!atLeast(microversion, '2.34')) {
    // Before 2.34 the API waited for the conductor's checks and answered 400.
    const check = liveMigrationPrecheck(state, server, body.force === true ? null : host);
    if (check.dest === null) throw badRequest(check.reason);
  }
  bump(state.counters.liveMigrateAccepted, server.id);
  server.taskState = 'migrating';
  const migration = state.newMigration(server, 'live-migration');
  runLiveMigration(state, server, migration, host);
  return new NovaAnswer(202);
}

function coldMigrate(state: SimulatedCloudState, server: SimServer, args: unknown, microversion: string) {
  if (args !== null && args !== undefined) {
    if (!atLeast(microversion, '2.56') || typeof args !== 'object') {
      throw invalidInput('migrate', args, `${JSON.stringify(args)} is not of type 'null'`);
    }
    const extra = Object.keys(args).find((k) => k !== 'host');
    if (extra)
      throw invalidInput(
        'migrate',
        args,
        `Additional properties are not allowed ('${extra}' was unexpected)`,
      );
  }
  const host = typeof (args as Json | null)?.host === 'string' ? ((args as Json).host as string) : null;
  requireState(server, 'migrate', ['active', 'stopped']);
  // check_instance_host(check_is_up=True): no host name, so tenants learn none.
  if (state.serviceState(state.host(server.host)) !== 'up')
    throw conflict('Service is unavailable at this time.');
  if (host !== null) {
    if (!state.hosts.has(host)) throw badRequest(`Compute host ${host} could not be found.`);
    if (host === server.host) throw badRequest('Cannot migrate to the host where the server exists.');
  }
  bump(state.counters.coldMigrateAccepted, server.id);
  server.taskState = 'resize_prep';
  const migration = state.newMigration(server, 'migration', 'pre-migrating');
  runColdMigration(state, server, migration, host);
  return new NovaAnswer(202);
}

function confirmResize(state: SimulatedCloudState, server: SimServer) {
  requireState(server, 'confirmResize', ['resized']);
  const migration = [...state.migrations]
    .reverse()
    .find((m) => m.instanceId === server.id && m.migrationType === 'migration' && m.status === 'finished');
  if (!migration) throw badRequest('Instance has not been resized.');
  runConfirmResize(state, server, migration);
  return new NovaAnswer(204);
}

/** The answer to a migration action, or undefined when `action` is none of them. */
export function migrationAction(
  state: SimulatedCloudState,
  server: SimServer,
  action: string,
  args: unknown,
  microversion: string,
): NovaAnswer | undefined {
  if (action === 'os-migrateLive') return liveMigrate(state, server, args, microversion);
  if (action === 'migrate') return coldMigrate(state, server, args, microversion);
  if (action === 'confirmResize') return confirmResize(state, server);
  return undefined;
}
