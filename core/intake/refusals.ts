// Refusing a confirmed failure is itself news: the admins hear about it once per reason
// within notifyOnceSeconds (not once per alert of a storm), with the hosts left alone.
import { type NotifyInput, notify } from '../notify.js';
import type { Runtime } from '../runtime.js';
import type { StateStore } from './state-store.js';

/**
 * Sends one notice: through the runtime's notifiers (`npm start`), or handed to the notify
 * function on AWS, so the intake's own role needs no SMTP or chat secret.
 */
export type NoticeSender = (
  rt: Runtime,
  notice: NotifyInput,
) => Promise<{ delivered: number; failed: number }>;

export type RefusalReason = 'paused' | 'all-stale' | 'mass-failure' | 'rate-limited';

/** Hosts refused while deciding one request, by reason, with the first explanation. */
export type Refusals = Map<RefusalReason, { hosts: string[]; detail: string }>;

const listed = (hosts: string[]) =>
  hosts.length > 20 ? `${hosts.slice(0, 20).join(', ')} and ${hosts.length - 20} more` : hosts.join(', ');

export async function notifyRefusals(
  rt: Runtime,
  store: StateStore,
  refusals: Refusals,
  receivedAt: string,
  onceSeconds: number,
  send: NoticeSender = notify,
): Promise<void> {
  for (const [reason, { hosts, detail }] of refusals) {
    const key = `refusal:${reason}`;
    if (!(await store.claimOnce(key, onceSeconds * 1000))) continue;
    const shown = listed(hosts);
    rt.logger.warn('automatic recovery refused', { reason, detail, hosts: hosts.length });
    const sent = await send(rt, {
      kind: reason === 'paused' ? 'paused' : 'mass-failure',
      host: shown,
      incident: `intake-${reason}`,
      cause: `No automatic recovery (${reason}): ${detail}. Not started for: ${shown}. Further refusals for this reason are not notified for ${onceSeconds} s.`,
      requestedAt: receivedAt,
    });
    // Nobody was told: let the next refusal try again rather than stay silent for the TTL.
    if (sent.delivered === 0 && sent.failed > 0) await store.unclaim(key);
  }
}
