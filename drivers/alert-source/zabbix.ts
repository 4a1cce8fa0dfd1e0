// Zabbix webhook media type: the body is whatever the media type's script builds; the
// script in docs/intake.md sends {source:"zabbix", host, eventId, eventValue, ...}.
// EVENT.VALUE is 1 for a problem and 0 for its recovery; an event update (an
// acknowledgement or comment, EVENT.UPDATE.STATUS=1) is recorded only.

import { InvalidAlert } from '../../core/errors.js';
import type { AlertSignal, AlertSource } from '../../core/ports.js';
import * as z from '../../core/zod.js';
import { clip, isRecord, parseWith, toHostName } from './common.js';

export const zabbixOptions = z.strictObject({ driver: z.literal('zabbix') });

const flag = (macro: string) =>
  z.union([z.enum(['0', '1']), z.literal(0), z.literal(1)], {
    error: `must be 0 or 1 (an unexpanded ${macro} means the media type parameter is not set)`,
  });

const body = z.object({
  source: z.optional(z.literal('zabbix')),
  host: z.string().check(z.maxLength(255)),
  eventId: z.optional(z.union([z.string().check(z.maxLength(64)), z.number()])),
  eventValue: flag('{EVENT.VALUE}'),
  updateStatus: z.optional(flag('{EVENT.UPDATE.STATUS}')),
  severity: z.optional(z.string().check(z.maxLength(64))),
  trigger: z.optional(z.string()),
});

export class ZabbixSource implements AlertSource {
  readonly name = 'zabbix';

  matches(value: unknown): boolean {
    return isRecord(value) && (value.source === 'zabbix' || 'eventValue' in value);
  }

  parse(value: unknown): AlertSignal[] {
    const data = parseWith(this.name, body, value);
    const host = toHostName(data.host);
    if (!host) throw new InvalidAlert(`zabbix: host: must be a host name, got "${clip(data.host, 60)}"`);
    const problem = String(data.eventValue) === '1';
    const update = data.updateStatus !== undefined && String(data.updateStatus) === '1';
    const event = data.eventId === undefined ? '' : ` event ${data.eventId}`;
    const what = `${data.trigger ? clip(data.trigger, 200) : 'trigger'}${data.severity ? ` (${data.severity})` : ''}`;
    const summary = `Zabbix${event}: ${what} ${problem ? 'PROBLEM' : 'OK'}`;
    return [
      {
        source: this.name,
        host,
        state: update ? 'ignored' : problem ? 'down' : 'up',
        reason: clip(update ? `${summary} (an event update, recorded only)` : summary, 400),
        fingerprint: data.eventId === undefined ? null : String(data.eventId),
      },
    ];
  }
}
