// Sample bodies as each monitoring system sends them: Alertmanager's documented v4
// webhook payload, Nagios macros through curl, Icinga 2 runtime macro names, and the
// Zabbix media type script in docs/intake.md.

/** Alertmanager webhook_config body (version 4), as in the Prometheus docs' example. */
export function alertmanagerPayload(
  alerts: { host?: string; instance?: string; status?: 'firing' | 'resolved'; fingerprint?: string }[],
  status: 'firing' | 'resolved' = 'firing',
) {
  return {
    version: '4',
    groupKey: '{}/{severity="critical"}:{alertname="NovaComputeDown"}',
    truncatedAlerts: 0,
    status,
    receiver: 'freezer-dr',
    groupLabels: { alertname: 'NovaComputeDown' },
    commonLabels: { alertname: 'NovaComputeDown', severity: 'critical' },
    commonAnnotations: { summary: 'nova-compute down' },
    externalURL: 'http://alertmanager:9093',
    alerts: alerts.map((a, i) => ({
      status: a.status ?? status,
      labels: {
        alertname: 'NovaComputeDown',
        severity: 'critical',
        ...(a.host ? { host: a.host } : {}),
        ...(a.instance ? { instance: a.instance } : {}),
      },
      annotations: { summary: `nova-compute down on ${a.host ?? a.instance}` },
      startsAt: '2026-11-21T08:00:00Z',
      endsAt: a.status === 'resolved' ? '2026-11-21T08:10:00Z' : '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus:9090/graph?g0.expr=up%7Bjob%3D%22nova-compute%22%7D+%3D%3D+0',
      fingerprint: a.fingerprint ?? `1a30ba71cca2921${i.toString(16)}`,
    })),
  };
}

/** What the docs' Nagios command posts (form fields named after the macros). */
export function nagiosForm(
  host: string,
  type = 'PROBLEM',
  state = 'DOWN',
  stateType = 'HARD',
): Record<string, string> {
  return {
    source: 'nagios',
    type,
    host,
    state,
    statetype: stateType,
    attempt: stateType === 'HARD' ? '3' : '1',
    output: `CRITICAL - Host Unreachable (10.0.0.${host.length}) "quoted" & <b>`,
  };
}

/** Nagios JSON built from environment macros (enable_environment_macros=1). */
export function nagiosJson(host: string, type = 'PROBLEM', state = 'DOWN', stateType = 'HARD') {
  return {
    source: 'nagios',
    notificationType: type,
    host,
    address: '10.0.0.12',
    state,
    stateType,
    attempt: 3,
    output: 'PING CRITICAL - Packet loss = 100%',
  };
}

/** What the docs' Icinga 2 NotificationCommand posts ($notification.type$, $host.name$, ...). */
export function icingaForm(host: string, type = 'PROBLEM', state = 'DOWN', stateType = 'HARD') {
  return {
    source: 'icinga',
    notification_type: type,
    host_name: host,
    host_state: state,
    host_state_type: stateType,
    host_check_attempt: '5',
    host_output: 'CRITICAL - Host Unreachable (192.0.2.10)',
  };
}

/** The body the docs' Zabbix media type script builds from its parameters. */
export function zabbixBody(host: string, eventValue: string, extra: Record<string, string> = {}) {
  return {
    source: 'zabbix',
    host,
    eventId: '4711',
    eventValue,
    updateStatus: '0',
    severity: 'Disaster',
    trigger: `nova-compute is down on ${host}`,
    ...extra,
  };
}
