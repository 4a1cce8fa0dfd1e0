export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const nowIso = () => new Date().toISOString();

/** Nova prints updated_at in UTC without a zone ("2026-11-21T10:00:00.000000"). */
export function parseNovaTime(value: string | null): number | null {
  if (!value) return null;
  const withZone = /[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`;
  const ms = Date.parse(withZone);
  return Number.isNaN(ms) ? null : ms;
}

export const secondsSince = (iso: string, now = Date.now()) => Math.round((now - Date.parse(iso)) / 100) / 10;
