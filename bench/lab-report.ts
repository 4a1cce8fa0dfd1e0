// What both lab benches print and boot with: figures in seconds, medians of rounds, where
// servers landed, and N servers booted on the host the bench takes down or drains.
import { sleep } from '../core/time.js';
import type { LabNova } from '../test/lab/lab-nova.js';

export const s = (x: number) => `${x.toFixed(2).padStart(7)} s`;
export const say = (line = '') => process.stdout.write(`${line}\n`);

export function median(xs: number[]): number {
  const sorted = xs.filter(Number.isFinite).sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  if (!sorted.length) return Number.NaN;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export const landing = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([host, n]) => `${host} x${n}`)
    .join(', ');

/** N ACTIVE servers on `host`, then a pause so the boot traffic settles before the clock starts. */
export async function bootOnHost(
  nova: LabNova,
  host: string,
  count: number,
  prefix: string,
): Promise<string[]> {
  const ids = await nova.bootActive(
    Array.from({ length: count }, (_, i) => ({ name: `${prefix}${i + 1}`, host })),
  );
  await sleep(3000);
  return ids;
}
