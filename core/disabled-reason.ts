// The structured disabled_reason freezer-dr leaves on a compute service. It doubles as a
// durable marker: the reconciler and intake recognise hosts that freezer-dr took down,
// and tell a failed host ("host failure") from one drained while it still ran ("drain"):
// a drained host is still up, so a later failure of it is a recovery, not "awaiting restore".
const PREFIX = 'freezer-dr:';
const MAX = 255;
const DRAIN = 'drain;';

export interface DisabledReason {
  /** host-failure: fenced and forced down (the recovery); drain: disabled while it still runs. */
  kind: 'host-failure' | 'drain';
  incident: string;
  fencedAt: string;
  fence: string;
  /** Why it was drained (the degraded alert or the operator's words); empty for a host failure. */
  reason: string;
}

const clip = (text: string) => (text.length > MAX ? text.slice(0, MAX) : text);

export function formatDisabledReason(
  reason: Pick<DisabledReason, 'incident' | 'fence' | 'fencedAt'>,
): string {
  return clip(
    `${PREFIX} host failure; incident=${reason.incident} fence=${reason.fence} at=${reason.fencedAt}`,
  );
}

/** `freezer-dr: drain; incident=… reason=…`: the reason is last, free text, so it may be cut. */
export function formatDrainReason(reason: { incident: string; reason: string }): string {
  const words = reason.reason.replace(/\s+/g, ' ').trim() || 'degraded';
  return clip(`${PREFIX} ${DRAIN} incident=${reason.incident} reason=${words}`);
}

export function parseDisabledReason(text: string | null): DisabledReason | null {
  if (!text?.startsWith(PREFIX)) return null;
  const field = (name: string) => new RegExp(`${name}=(\\S+)`).exec(text)?.[1] ?? '';
  const drain = text.slice(PREFIX.length).trimStart().startsWith(DRAIN);
  return {
    kind: drain ? 'drain' : 'host-failure',
    incident: field('incident'),
    fence: drain ? '' : field('fence'),
    fencedAt: drain ? '' : field('at'),
    reason: drain ? (/ reason=(.*)$/.exec(text)?.[1] ?? '') : '',
  };
}

/** A host freezer-dr disabled for a drain and nothing else (not forced down by a recovery). */
export const isDrainReason = (text: string | null) => parseDisabledReason(text)?.kind === 'drain';
