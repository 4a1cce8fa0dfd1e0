// The documented generic form for anything else (a script, a cron check):
// {"host": "compute-7", "status": "down" | "degraded" | "up", "source": "my-check", "reason": "..."}.
// "degraded": the host still runs but is failing (ECC storm, degraded RAID): drain it.

import { InvalidAlert } from '../../core/errors.js';
import type { AlertSignal, AlertSource } from '../../core/ports.js';
import * as z from '../../core/zod.js';
import { clip, isRecord, parseWith, toHostName } from './common.js';

export const genericOptions = z.strictObject({ driver: z.literal('generic') });

const body = z.object({
  host: z.string().check(z.maxLength(255)),
  status: z.enum(['down', 'degraded', 'up']),
  source: z.optional(
    z
      .string()
      .check(
        z.maxLength(64),
        z.regex(/^[A-Za-z0-9._-]+$/, 'must be a short name (letters, digits, ".", "_", "-")'),
      ),
  ),
  reason: z.optional(z.string()),
  fingerprint: z.optional(z.string().check(z.maxLength(128))),
});

export class GenericSource implements AlertSource {
  readonly name = 'generic';

  matches(value: unknown): boolean {
    return isRecord(value) && 'host' in value && 'status' in value;
  }

  parse(value: unknown): AlertSignal[] {
    const data = parseWith(this.name, body, value);
    const host = toHostName(data.host);
    if (!host) throw new InvalidAlert(`generic: host: must be a host name, got "${clip(data.host, 60)}"`);
    const source = data.source ?? this.name;
    return [
      {
        source,
        host,
        state: data.status,
        reason: clip(data.reason ? `${source}: ${data.reason}` : `${source} reports ${host} ${data.status}`),
        fingerprint: data.fingerprint ?? null,
      },
    ];
  }
}
