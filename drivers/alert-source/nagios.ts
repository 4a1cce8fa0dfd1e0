// Nagios and Icinga 2 host notifications, posted by a notification command with curl as
// JSON or as a form. Field names follow the macros ($NOTIFICATIONTYPE$, $host.state$, …)
// in the spellings people actually use. Only PROBLEM + DOWN + HARD acts: a SOFT state
// is still being retried by the monitor, UNREACHABLE means a parent (a switch) is down.
// A service notification (it names a service) never means the host is down: PROBLEM +
// WARNING or CRITICAL + HARD on a check listed in drain.triggers.nagiosServices asks for
// a drain (the host still runs but is failing); any other service is recorded only.

import { InvalidAlert } from '../../core/errors.js';
import type { AlertSignal, AlertSource } from '../../core/ports.js';
import * as z from '../../core/zod.js';
import { clip, isRecord, parseWith, toHostName } from './common.js';

export const nagiosOptions = z.strictObject({ driver: z.literal('nagios') });

/** Accepted spellings of each field, first match wins. */
const ALIASES = {
  type: ['notificationType', 'notification_type', 'type', 'NOTIFICATIONTYPE', 'notification.type'],
  host: ['host', 'hostname', 'host_name', 'hostName', 'HOSTNAME', 'host.name'],
  state: ['state', 'hostState', 'host_state', 'HOSTSTATE', 'host.state'],
  stateType: [
    'stateType',
    'state_type',
    'statetype',
    'hostStateType',
    'host_state_type',
    'HOSTSTATETYPE',
    'host.state_type',
  ],
  attempt: [
    'attempt',
    'hostAttempt',
    'host_attempt',
    'HOSTATTEMPT',
    'host_check_attempt',
    'host.check_attempt',
  ],
  output: [
    'output',
    'hostOutput',
    'host_output',
    'HOSTOUTPUT',
    'host.output',
    'serviceOutput',
    'SERVICEOUTPUT',
  ],
  service: ['service', 'serviceDesc', 'service_desc', 'servicedesc', 'SERVICEDESC', 'service.name'],
  serviceState: ['serviceState', 'service_state', 'SERVICESTATE', 'service.state'],
  serviceStateType: ['serviceStateType', 'service_state_type', 'SERVICESTATETYPE', 'service.state_type'],
} as const;
type Field = keyof typeof ALIASES;

const word = z.string().check(z.trim(), z.minLength(1), z.maxLength(64));
const fields = z.object({
  source: z.optional(z.string().check(z.maxLength(64))),
  type: word,
  host: z.string().check(z.maxLength(255)),
  state: word,
  /** Icinga 2 objects keep the state type as a number: 0 SOFT, 1 HARD. */
  stateType: z.union([word, z.literal(0), z.literal(1)]),
  attempt: z.optional(z.union([z.string().check(z.maxLength(16)), z.number()])),
  output: z.optional(z.string()),
  service: z.optional(z.string().check(z.maxLength(255))),
  serviceState: z.optional(word),
  serviceStateType: z.optional(z.union([word, z.literal(0), z.literal(1)])),
});

function pick(body: Record<string, unknown>, field: Field): { key: string; value: unknown } | undefined {
  for (const key of ALIASES[field]) if (Object.hasOwn(body, key)) return { key, value: body[key] };
  return undefined;
}

const hardOrSoft = (value: string | 0 | 1) =>
  typeof value === 'number' ? (value === 1 ? 'HARD' : 'SOFT') : value.toUpperCase();

export class NagiosSource implements AlertSource {
  readonly name = 'nagios';

  constructor(private readonly drainServices: readonly string[] = []) {}

  matches(body: unknown): boolean {
    return (
      isRecord(body) &&
      pick(body, 'type') !== undefined &&
      (pick(body, 'state') !== undefined || pick(body, 'serviceState') !== undefined)
    );
  }

  parse(body: unknown): AlertSignal[] {
    if (!isRecord(body)) throw new InvalidAlert('nagios: body must be an object');
    const flat: Record<string, unknown> = { source: body.source };
    for (const field of Object.keys(ALIASES) as Field[]) flat[field] = pick(body, field)?.value;
    // A service notification carries the service's state; the host's may be absent.
    if (flat.service !== undefined) {
      flat.state ??= flat.serviceState;
      flat.stateType ??= flat.serviceStateType ?? 'HARD';
    }
    const data = parseWith(this.name, fields, flat);
    const source = data.source?.toLowerCase() === 'icinga' ? 'icinga' : 'nagios';
    const host = toHostName(data.host);
    if (!host) throw new InvalidAlert(`${source}: host: must be a host name, got "${clip(data.host, 60)}"`);
    const type = data.type.toUpperCase();
    const state = data.state.toUpperCase();
    const stateType = hardOrSoft(data.stateType);
    if (data.service !== undefined) return [this.serviceSignal(source, host, type, data)];
    const attempt = data.attempt === undefined ? '' : ` attempt ${data.attempt}`;
    const output = data.output ? `: ${data.output}` : '';
    const summary = clip(`${source} ${type} ${state} ${stateType}${attempt}${output}`);
    let verdict: AlertSignal['state'] = 'ignored';
    let why = '';
    if (type === 'RECOVERY' || (type === 'PROBLEM' && state === 'UP')) verdict = 'up';
    else if (type !== 'PROBLEM') why = ` (${type} notifications are recorded, never acted on)`;
    else if (state !== 'DOWN') why = ` (only DOWN acts; ${state} is not a host failure)`;
    else if (stateType !== 'HARD') why = ' (only HARD states act; the monitor is still re-checking)';
    else verdict = 'down';
    return [{ source, host, state: verdict, reason: clip(summary + why, 400), fingerprint: null }];
  }

  /** A service notification: a drain request for a listed check, otherwise recorded only. */
  private serviceSignal(
    source: string,
    host: string,
    type: string,
    data: z.infer<typeof fields>,
  ): AlertSignal {
    const service = data.service ?? '';
    const state = (data.serviceState ?? data.state).toUpperCase();
    const stateType = hardOrSoft(data.serviceStateType ?? data.stateType);
    const output = data.output ? `: ${data.output}` : '';
    const summary = clip(`${source} ${type} service ${service} ${state} ${stateType}${output}`);
    let verdict: AlertSignal['state'] = 'ignored';
    let why = '';
    if (type === 'RECOVERY') why = ' (a service recovery is recorded; restore the host yourself)';
    else if (type !== 'PROBLEM') why = ` (${type} notifications are recorded, never acted on)`;
    else if (!this.drainServices.includes(service)) why = ' (not a check in drain.triggers.nagiosServices)';
    else if (state !== 'WARNING' && state !== 'CRITICAL')
      why = ` (only WARNING or CRITICAL drains; ${state} does not)`;
    else if (stateType !== 'HARD') why = ' (only HARD states act; the monitor is still re-checking)';
    else verdict = 'degraded';
    return { source, host, state: verdict, reason: clip(summary + why, 400), fingerprint: null };
  }
}
