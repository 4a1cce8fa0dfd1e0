// The structured disabled_reason freezer-dr leaves on a compute service. It doubles as a
// durable marker: the reconciler and intake recognise hosts that freezer-dr took down.
const PREFIX = 'freezer-dr:';
const MAX = 255;

export interface DisabledReason {
  incident: string;
  fencedAt: string;
  fence: string;
}

export function formatDisabledReason(reason: DisabledReason): string {
  const text = `${PREFIX} host failure; incident=${reason.incident} fence=${reason.fence} at=${reason.fencedAt}`;
  return text.length > MAX ? text.slice(0, MAX) : text;
}

export function parseDisabledReason(text: string | null): DisabledReason | null {
  if (!text?.startsWith(PREFIX)) return null;
  const field = (name: string) => new RegExp(`${name}=(\\S+)`).exec(text)?.[1] ?? '';
  return { incident: field('incident'), fence: field('fence'), fencedAt: field('at') };
}
