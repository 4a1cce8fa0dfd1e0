// Prometheus Alertmanager webhook_config payloads (version "4"). One request carries a
// group of alerts; each firing alert names its host in a label (configurable, default
// `host`, then `instance` without its port). Resolved alerts are recorded only. A firing
// alert that says the host is degraded, not down (label or annotation freezer_dr_action:
// drain, or an alertname in drain.triggers.alertnames), asks for a drain.

import type { AlertSignal, AlertSource } from '../../core/ports.js';
import * as z from '../../core/zod.js';
import { clip, isRecord, parseWith, toHostName } from './common.js';

export const alertmanagerOptions = z.strictObject({
  driver: z.literal('alertmanager'),
  /** Labels tried in order for the host name; a `:port` suffix is stripped. */
  hostLabels: z._default(z.array(z.string().check(z.minLength(1))).check(z.minLength(1)), [
    'host',
    'instance',
  ]),
});
export type AlertmanagerOptions = z.infer<typeof alertmanagerOptions>;

const label = z.string().check(z.maxLength(4096));
/** The label or annotation that turns a firing alert into a drain request. */
export const DRAIN_KEY = 'freezer_dr_action';
const alert = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: z.record(z.string(), label),
  annotations: z.optional(z.record(z.string(), label)),
  startsAt: z.optional(z.string().check(z.maxLength(64))),
  fingerprint: z.optional(z.string().check(z.maxLength(128))),
});
const payload = z.object({
  version: z.literal('4'),
  groupKey: z.optional(z.string().check(z.maxLength(8192))),
  alerts: z.array(alert).check(z.maxLength(10_000)),
});

export class AlertmanagerSource implements AlertSource {
  readonly name = 'alertmanager';

  constructor(
    private readonly options: Pick<AlertmanagerOptions, 'hostLabels'> = { hostLabels: ['host', 'instance'] },
    private readonly drainAlertnames: readonly string[] = [],
  ) {}

  /** A firing alert that asks for a drain rather than a recovery. */
  private degraded(a: z.infer<typeof alert>, alertname: string): boolean {
    const action =
      (Object.hasOwn(a.labels, DRAIN_KEY) ? a.labels[DRAIN_KEY] : undefined) ??
      (a.annotations && Object.hasOwn(a.annotations, DRAIN_KEY) ? a.annotations[DRAIN_KEY] : undefined);
    return action?.trim().toLowerCase() === 'drain' || this.drainAlertnames.includes(alertname);
  }

  matches(body: unknown): boolean {
    return isRecord(body) && 'alerts' in body && ('version' in body || 'groupKey' in body);
  }

  parse(body: unknown): AlertSignal[] {
    const data = parseWith(this.name, payload, body);
    return data.alerts.map((a): AlertSignal => {
      const alertname = Object.hasOwn(a.labels, 'alertname') ? a.labels.alertname : 'alert';
      const fingerprint = a.fingerprint ?? null;
      const labelName = this.options.hostLabels.find((name) => Object.hasOwn(a.labels, name));
      const host = labelName ? toHostName(a.labels[labelName] ?? '') : null;
      if (!host) {
        const why = labelName
          ? `label ${labelName} is not a host name`
          : `no ${this.options.hostLabels.join('/')} label`;
        return {
          source: this.name,
          host: '',
          state: 'ignored',
          reason: clip(`${alertname}: ${why}`),
          fingerprint,
        };
      }
      const since = a.startsAt ? ` since ${a.startsAt}` : '';
      const degraded = a.status === 'firing' && this.degraded(a, alertname ?? '');
      return {
        source: this.name,
        host,
        state: a.status === 'firing' ? (degraded ? 'degraded' : 'down') : 'up',
        reason: clip(`Alertmanager ${alertname} ${a.status}${since}`),
        fingerprint,
      };
    });
  }
}
