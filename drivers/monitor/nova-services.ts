// The seed's "native OpenStack services status" monitor: Nova's own view of its compute
// services, read on a schedule. A service Nova reports `down` (it missed reports for
// service_down_time) becomes a down signal for the intake, exactly like an alert, so a
// host is recovered even when no external monitor says anything, or its one alert was lost.
// Services already forced down or disabled are not signalled: freezer-dr or an operator
// already holds them (the intake would skip them as awaiting-restore or maintenance);
// a host freezer-dr disabled for a drain is signalled: its failure is a recovery.

import { isDrainReason } from '../../core/disabled-reason.js';
import type { AlertSignal, Cloud, Monitor } from '../../core/ports.js';
import { parseNovaTime } from '../../core/time.js';
import * as z from '../../core/zod.js';

export const novaServicesOptions = z.strictObject({
  driver: z.literal('nova-services'),
  /** Poll period of `npm start`; on AWS an EventBridge schedule runs it every minute. */
  intervalSeconds: z._default(z.positiveInt().check(z.maximum(3600)), 10),
});

export const NOVA_SERVICES = 'nova-services';

export class NovaServicesMonitor implements Monitor {
  readonly name = NOVA_SERVICES;

  constructor(readonly intervalSeconds: number) {}

  async poll(cloud: Cloud): Promise<AlertSignal[]> {
    const services = await cloud.listComputeServices();
    return services
      .filter(
        (s) =>
          s.state === 'down' && !s.forcedDown && (s.status === 'enabled' || isDrainReason(s.disabledReason)),
      )
      .map((s) => {
        const reported = parseNovaTime(s.updatedAt);
        const age = reported === null ? 'never reported' : `last reported ${s.updatedAt}`;
        return {
          source: NOVA_SERVICES,
          host: s.host,
          state: 'down' as const,
          reason: `Nova reports nova-compute on ${s.host} down (${age})`,
          // One incident per report time: the same as an alert for this failure.
          fingerprint: `${NOVA_SERVICES}:${s.host}:${s.updatedAt ?? 'never'}`,
          channel: 'nova-down' as const,
        };
      });
  }
}
