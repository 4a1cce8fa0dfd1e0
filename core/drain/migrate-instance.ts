// State: MigrateInstance (one Map iteration). Asks Nova to live-migrate one instance off
// the degraded host (a SHUTOFF one is cold-migrated when drain.coldMigrateStopped is on).
// Idempotent: the server and its migration records are read first, and an instance already
// elsewhere, already moving, or with a migration in flight from this host is not sent again,
// so a retried or re-driven step never migrates twice. One that cannot move stays running
// where it is, with the reason (refused): the drain never stops or reboots anything.

import { CLOUD_REJECTED, CloudError } from '../errors.js';
import type { Migration } from '../ports.js';
import type { Runtime } from '../runtime.js';
import { nowIso } from '../time.js';
import { MOVING_TASK_STATES, migrationInFlight, readDrainHost } from './host-state.js';

export interface MigrateInput {
  id: string;
  host: string;
  incident: string;
  /** Planned destination (PlanTargets); null lets Nova's scheduler choose. */
  target?: string | null;
}

export const MIGRATE_ACTIONS = [
  'live-migrating',
  'cold-migrating',
  'in-progress',
  'already-moved',
  'gone',
  'refused',
  'host-down',
] as const;
export type MigrateAction = (typeof MIGRATE_ACTIONS)[number];

export interface MigrateResult {
  action: MigrateAction;
  /** live or cold: which kind of move VerifyMigration waits for (null: none started). */
  kind: 'live' | 'cold' | null;
  /** Status before the move: the instance must read the same afterwards (same power state). */
  prior: string | null;
  startedAt: string;
  target: string | null;
  /** Why it stays (refused, host-down), short: it travels in the state. */
  reason: string | null;
  /** State: WaitForMigration's SecondsPath (the first wait, before the first check). */
  waitSeconds: number;
}

const MIGRATION_TYPES = new Set(['live-migration', 'migration']);

/**
 * The status the instance must read again once moved, from its vm_state: the API status
 * reads MIGRATING or VERIFY_RESIZE while it moves, the vm_state keeps the power state.
 */
export function powerStatus(server: { vmState: string | null; status: string }): string {
  if (server.vmState === 'active') return 'ACTIVE';
  if (server.vmState === 'stopped') return 'SHUTOFF';
  if (server.vmState === 'paused') return 'PAUSED';
  return server.status;
}
const MAX_REASON = 120;
const clip = (text: string) => (text.length > MAX_REASON ? `${text.slice(0, MAX_REASON - 1)}…` : text);

/** The instance's migrations (live or cold) from `host` still in flight. */
export async function movesInFlight(rt: Runtime, id: string, host: string): Promise<Migration[]> {
  const all = (await rt.cloud.listMigrations?.({ instanceId: id })) ?? [];
  return all.filter(
    (m) => MIGRATION_TYPES.has(m.migrationType) && m.sourceCompute === host && migrationInFlight(m.status),
  );
}

export async function migrateInstance(rt: Runtime, input: MigrateInput): Promise<MigrateResult> {
  const policy = rt.config.drain;
  // The first wait is short (1 s); VerifyMigration lengthens the next ones up to pollSeconds.
  const base = { startedAt: nowIso(), target: null, reason: null, waitSeconds: 1 };
  const [server, inFlight] = await Promise.all([
    rt.cloud.getServer(input.id),
    movesInFlight(rt, input.id, input.host),
  ]);
  // The host after the server: a recovery evacuates only once the host is forced down, so a
  // host read up after the server means no evacuation had started when the server was read.
  const { health } = await readDrainHost(rt, input.host);
  if (!server) return { ...base, action: 'gone', kind: null, prior: null };
  const prior = powerStatus(server);
  if (server.host !== input.host) return { ...base, action: 'already-moved', kind: null, prior };
  const moving = inFlight[0];
  if (moving || (server.taskState && MOVING_TASK_STATES.has(server.taskState))) {
    return {
      ...base,
      action: 'in-progress',
      kind: moving?.migrationType === 'migration' || prior === 'SHUTOFF' ? 'cold' : 'live',
      prior,
    };
  }
  // The host went down: start nothing more; the recovery takes over what is still here.
  if (health.down) {
    return { ...base, action: 'host-down', kind: null, prior, reason: clip(`not moved: ${health.evidence}`) };
  }
  const cold = prior === 'SHUTOFF';
  const refuse = (reason: string): MigrateResult => ({
    ...base,
    action: 'refused',
    kind: null,
    prior,
    reason: clip(reason),
  });
  if (cold && !policy.coldMigrateStopped)
    return refuse('SHUTOFF and drain.coldMigrateStopped is off: it stays');
  if (!cold && prior !== 'ACTIVE' && prior !== 'PAUSED') {
    return refuse(`${server.status}: only a running instance is live-migrated`);
  }
  if (server.taskState) return refuse(`task ${server.taskState} running: not migrated`);
  const move = cold ? rt.cloud.coldMigrate?.bind(rt.cloud) : rt.cloud.liveMigrate?.bind(rt.cloud);
  if (!move) return refuse(`the ${rt.cloud.kind} cloud driver cannot ${cold ? 'cold' : 'live'}-migrate`);
  let target = input.target ?? null;
  try {
    try {
      await move(input.id, target ? { host: target } : {});
    } catch (error) {
      // Nova refused the planned host (400/409 from its checks): once more, the scheduler decides.
      if (!target || !(error instanceof CloudError) || (error.httpStatus !== 400 && error.httpStatus !== 409))
        throw error;
      const again = await rt.cloud.getServer(input.id);
      if (again?.taskState || again?.host !== input.host) throw error;
      rt.logger.warn('planned host refused the migration; asking without a target', {
        id: input.id,
        target,
        error: error.message,
      });
      target = null;
      await move(input.id, {});
    }
  } catch (error) {
    if (error instanceof CloudError && error.httpStatus === 404)
      return { ...base, action: 'gone', kind: null, prior };
    if (error instanceof CloudError && error.httpStatus === 409) {
      // A duplicate step started it between our read and our POST.
      const again = await rt.cloud.getServer(input.id);
      if (again?.taskState && MOVING_TASK_STATES.has(again.taskState)) {
        return { ...base, action: 'in-progress', kind: cold ? 'cold' : 'live', prior };
      }
    }
    if (error instanceof CloudError && error.name === CLOUD_REJECTED) {
      rt.logger.warn('migration refused', { id: input.id, error: error.message });
      return refuse(error.message.replace(/^.*? failed with HTTP (\d+): /, 'Nova $1: '));
    }
    throw error;
  }
  rt.logger.info(`${cold ? 'cold' : 'live'} migration requested`, { id: input.id, host: input.host, target });
  return {
    ...base,
    action: cold ? 'cold-migrating' : 'live-migrating',
    kind: cold ? 'cold' : 'live',
    prior,
    target,
  };
}
