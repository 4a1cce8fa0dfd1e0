// Prometheus Alertmanager webhook_config payloads (version "4"). One request carries a
// group of alerts; each firing alert names its host in a label (configurable, default
// `host`, then `instance` without its port). Resolved alerts are recorded only.
import { z } from 'zod';
import type { AlertSignal, AlertSource } from '../types.js';
import { clip, isRecord, parseWith, toHostName } from './common.js';

export const alertmanagerOptions = z.strictObject({
  driver: z.literal('alertmanager'),
  /** Labels tried in order for the host name; a `:port` suffix is stripped. */
  hostLabels: z.array(z.string().min(1)).min(1).default(['host', 'instance']),
});
export type AlertmanagerOptions = z.infer<typeof alertmanagerOptions>;

const label = z.string().max(4096);
const alert = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: z.record(z.string(), label),
  startsAt: z.string().max(64).optional(),
  fingerprint: z.string().max(128).optional(),
});
const payload = z.object({
  version: z.literal('4'),
  groupKey: z.string().max(8192).optional(),
  alerts: z.array(alert).max(10_000),
});

export class AlertmanagerSource implements AlertSource {
  readonly name = 'alertmanager';

  constructor(
    private readonly options: Pick<AlertmanagerOptions, 'hostLabels'> = { hostLabels: ['host', 'instance'] },
  ) {}

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
      return {
        source: this.name,
        host,
        state: a.status === 'firing' ? 'down' : 'up',
        reason: clip(`Alertmanager ${alertname} ${a.status}${since}`),
        fingerprint,
      };
    });
  }
}
