// Where an evacuation's time goes inside Nova, from the lab's own logs: when nova-api
// answered the evacuate POST (its request log, with the call's duration), when that request
// reached nova-scheduler, and when the destination nova-compute started "Evacuating
// instance". Lines are matched by the request id Nova gives the evacuate call.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOSTS, LAB_DIR } from '../test/lab/lab-env.js';

export interface EvacuationTrace {
  id: string;
  /** Epoch ms; null where the log has no line for it. */
  posted: number | null;
  answered: number | null;
  scheduler: number | null;
  compute: number | null;
}

const LOG = join(LAB_DIR, 'log');
/** "2026-12-02 06:17:32.865 9362 INFO ..." -> epoch ms (the lab logs local time). */
const stamp = (line: string): number => Date.parse(line.slice(0, 23).replace(' ', 'T'));
const requestId = (line: string): string | null => /\[(?:None )?(req-[0-9a-f-]{36})/.exec(line)?.[1] ?? null;

function lines(file: string, since: number): string[] {
  let text: string;
  try {
    text = readFileSync(join(LOG, file), 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter((line) => /^\d{4}-\d\d-\d\d /.test(line) && stamp(line) >= since);
}

export function traceEvacuations(ids: string[], since: number): EvacuationTrace[] {
  const api = lines('nova-api.log', since).filter((l) => l.includes('requestlog'));
  const scheduler = lines('nova-scheduler.log', since);
  const computes = HOSTS.flatMap((host) => lines(`nova-${host}.log`, since));
  return ids.map((id) => {
    // The evacuate answers 200 at 2.68 (lock and unlock answer 202).
    const post = api.find((l) => l.includes(`POST /v2.1/servers/${id}/action" status: 200`));
    const req = post ? requestId(post) : null;
    const took = post ? Number(/time: ([\d.]+)/.exec(post)?.[1] ?? 0) * 1000 : 0;
    const first = (pool: string[], match: (l: string) => boolean) => {
      const line = pool.find(match);
      return line ? stamp(line) : null;
    };
    return {
      id,
      answered: post ? stamp(post) : null,
      posted: post ? stamp(post) - took : null,
      scheduler: req ? first(scheduler, (l) => l.includes(req)) : null,
      compute: first(computes, (l) => l.includes(`[instance: ${id}] Evacuating instance`)),
    };
  });
}
