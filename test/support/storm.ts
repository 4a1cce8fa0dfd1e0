// A storm of alert requests, as several monitors would send during an incident: every
// truly-down host reported many times by every format, false alarms for healthy hosts,
// resolved notifications, SOFT states and acknowledgements, all shuffled together.
import { FORM, form } from './intake.js';
import { alertmanagerPayload, icingaForm, nagiosForm, nagiosJson, zabbixBody } from './intake-samples.js';
import type { Rng } from './prng.js';

export interface StormRequest {
  body: string;
  contentType: string;
  /** Alerts this request carries. */
  alerts: number;
}

export function buildStorm(
  random: Rng,
  hosts: string[],
  downHosts: Set<string>,
  targetAlerts: number,
): StormRequest[] {
  const requests: StormRequest[] = [];
  const down = [...downHosts];
  const up = hosts.filter((h) => !downHosts.has(h));
  let alerts = 0;
  const json = (body: unknown, count = 1) => {
    requests.push({ body: JSON.stringify(body), contentType: 'application/json', alerts: count });
    alerts += count;
  };
  const formReq = (fields: Record<string, string>) => {
    requests.push({ body: form(fields), contentType: FORM, alerts: 1 });
    alerts += 1;
  };
  while (alerts < targetAlerts) {
    const host = random.chance(0.7) ? random.pick(down) : random.pick(up);
    switch (random.int(8)) {
      case 0: {
        // An Alertmanager group: several hosts, some resolved, some duplicated.
        const group = Array.from({ length: 1 + random.int(6) }, () => ({
          host: random.chance(0.75) ? random.pick(down) : random.pick(up),
          status: random.chance(0.2) ? ('resolved' as const) : ('firing' as const),
        }));
        json(
          alertmanagerPayload(group.map((g) => ({ instance: `${g.host}:9100`, status: g.status }))),
          group.length,
        );
        break;
      }
      case 1:
        formReq(nagiosForm(host));
        break;
      case 2:
        formReq(
          nagiosForm(
            host,
            random.pick(['PROBLEM', 'RECOVERY', 'ACKNOWLEDGEMENT']),
            'DOWN',
            random.pick(['SOFT', 'HARD']),
          ),
        );
        break;
      case 3:
        formReq(icingaForm(host, 'PROBLEM', 'DOWN', random.pick(['SOFT', 'HARD'])));
        break;
      case 4:
        json(nagiosJson(host));
        break;
      case 5:
        json(zabbixBody(host, random.pick(['1', '1', '0'])));
        break;
      case 6:
        json({ host, status: random.chance(0.8) ? 'down' : 'up', source: 'cron-check' });
        break;
      default:
        json(alertmanagerPayload([{ host, status: 'resolved' }], 'resolved'));
    }
  }
  return random.shuffle(requests);
}
