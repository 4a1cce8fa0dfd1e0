// What each kind of report says, and what the reader should do next. Kept apart from
// the layouts so that a replaced template can still reuse (or ignore) this wording.
import type { NotificationKind } from '../../../core/ports.js';

export interface KindFacts {
  host: string;
  incident: string;
  selected: number;
  recovered: number;
  failed: number;
  /** Power was confirmed off by the fencer. */
  fenceVerified: boolean;
  fenceController: string | null;
  /** Tenants see host names only when the operator allows it (Nova hides them by default). */
  showHost: boolean;
  contact: string | null;
}

export interface Wording {
  /** Short label of the kind, e.g. "Fencing failed". */
  label: string;
  title: string;
  headline: string;
  nextSteps: string[];
  actionNeeded: boolean;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export const KIND_LABELS: Record<NotificationKind, string> = {
  recovery: 'Host failure',
  'fencing-failed': 'Fencing failed',
  'recovery-failed': 'Recovery failed',
  'not-confirmed': 'Failure not confirmed',
  'mass-failure': 'Mass failure: recovery refused',
  paused: 'Recovery paused',
  'capacity-shortfall': 'Not enough capacity',
  drain: 'Planned move (drain)',
  'drain-refused': 'Drain not started',
  'drain-failed': 'Drain stopped',
};

const drainEnable = (host: string) =>
  `When ${host} is repaired: freezer-dr restore ${host} (or openstack compute service set --enable ${host} nova-compute) lets the scheduler use it again.`;

const enableHost = (host: string) =>
  `Repair ${host}. When it is back, start nova-compute first so it cleans up the instances that were moved away, then put it back in service: openstack compute service set --enable --up ${host} nova-compute`;

export function adminWording(kind: NotificationKind, f: KindFacts): Wording {
  const label = KIND_LABELS[kind];
  const { host } = f;
  switch (kind) {
    case 'recovery': {
      const title =
        f.selected === 0
          ? `${host} failed: no instances needed recovery`
          : f.failed === 0
            ? `${host} failed: ${f.recovered} of ${plural(f.selected, 'instance')} recovered`
            : `ACTION NEEDED: ${host} failed, ${f.failed} of ${plural(f.selected, 'instance')} NOT recovered`;
      const steps = [
        ...(f.failed
          ? [
              'Look at each instance marked NOT recovered below and at the nova-conductor and nova-compute logs of its destination.',
              'Fix the cause, then redrive the execution or evacuate those instances by hand: openstack server evacuate <id>',
            ]
          : []),
        ...(f.fenceVerified
          ? []
          : [
              `freezer-dr did not confirm that ${host} is powered off: make sure it stays off until it is repaired.`,
            ]),
        enableHost(host),
      ];
      return {
        label,
        title,
        headline:
          f.selected === 0
            ? `Compute host ${host} failed and was taken out of service. No instance on it needed recovery.`
            : `Compute host ${host} failed and was taken out of service. ${f.recovered} of ${plural(f.selected, 'instance')} were rebuilt on other hosts${f.failed ? `; ${f.failed} could not be` : ''}.`,
        nextSteps: steps,
        actionNeeded: f.failed > 0,
      };
    }
    case 'fencing-failed':
      return {
        label,
        title: `ACTION NEEDED: ${host} could not be fenced, nothing was evacuated`,
        headline: `Compute host ${host} looks down, but freezer-dr could not confirm that it is powered off, so it moved no instance: evacuating from a host that may still be running can start a second copy of each instance on the same disks.`,
        nextSteps: [
          `Do not evacuate by hand until ${host} is known to be off.`,
          `Check the power controller${f.fenceController ? ` (${f.fenceController})` : ''}: is it reachable, are its credentials valid, what power state does it report?`,
          `Power ${host} off by other means (BMC console, PDU) and confirm that it is off.`,
          `Then start the recovery of ${host} again.`,
        ],
        actionNeeded: true,
      };
    case 'mass-failure':
      return {
        label,
        title: `ACTION NEEDED: recovery of ${host} refused, too many hosts down at once`,
        headline: `More compute hosts are reported down at the same time than the recovery policy allows, so freezer-dr did not evacuate ${host}. This usually means a network, power or monitoring problem rather than failed hosts.`,
        nextSteps: [
          'Find out whether these hosts are really down or only unreachable (switch, network partition, monitoring outage). Evacuating from hosts that still run would start second copies of their instances.',
          'If they are really down, power them off and recover them one at a time, the most important first.',
          'If it was a false alarm, nothing needs to be done to the instances.',
        ],
        actionNeeded: true,
      };
    case 'paused':
      return {
        label,
        title: `ACTION NEEDED: recovery of ${host} is paused`,
        headline: `The recovery of compute host ${host} is paused and waits for an operator. Instances not yet recovered stay down until it continues.`,
        nextSteps: [
          'Read the reason below and the execution history.',
          'Resume the recovery once it is safe, or stop the execution and recover the host by hand.',
        ],
        actionNeeded: true,
      };
    case 'recovery-failed':
      return {
        label,
        title: `ACTION NEEDED: recovery of ${host} stopped with an error`,
        headline: `The recovery of compute host ${host} stopped before it finished.${f.selected ? ` ${f.recovered} of ${plural(f.selected, 'instance')} were recovered.` : ''}`,
        nextSteps: [
          'Read the error below and the execution history.',
          `List what is still on the host: openstack server list --all-projects --host ${host}`,
          'Fix the cause, then redrive the execution, or evacuate the remaining instances by hand: openstack server evacuate <id>',
        ],
        actionNeeded: true,
      };
    case 'capacity-shortfall':
      return {
        label,
        title: `ACTION NEEDED: not enough room to recover every instance of ${host}`,
        headline: `The hosts left cannot hold every instance selected for recovery from ${host}. freezer-dr is evacuating the highest-priority instances that fit; the ${plural(f.failed, 'instance')} listed below will stay down.`,
        nextSteps: [
          'Add capacity (enable a spare host, free resources) and evacuate the instances listed as NOT recovered: openstack server evacuate <id>',
          'Or accept that they stay down until the host is repaired.',
          'Review the restart priorities (metadata ha:priority) so that what matters most comes back first.',
        ],
        actionNeeded: true,
      };
    case 'drain': {
      const left = f.failed;
      return {
        label,
        title:
          left === 0
            ? `${host} drained: ${f.recovered} of ${plural(f.selected, 'instance')} moved while running`
            : `ACTION NEEDED: ${host} drained, degraded host still holds ${plural(left, 'instance')}`,
        headline: `Compute host ${host} was reported degraded and was disabled, so nothing new is scheduled on it. ${f.recovered} of ${plural(f.selected, 'instance')} were live-migrated to other hosts without a reboot${left ? `; ${left} could not be moved and still run on ${host}` : ''}.`,
        nextSteps: [
          ...(left
            ? [
                `Look at each instance marked NOT moved below: move it by hand (openstack server migrate --live-migration <id>) or tell its owner before ${host} is serviced.`,
                'If the host fails before they move, freezer-dr recovers them (an evacuation: a restart on another host).',
              ]
            : [`${host} holds no instance: it can be serviced.`]),
          drainEnable(host),
        ],
        actionNeeded: left > 0,
      };
    }
    case 'drain-refused':
      return {
        label,
        title: `ACTION NEEDED: drain of ${host} not started`,
        headline: `Compute host ${host} was reported degraded, but freezer-dr did not drain it: the reason is below. Its instances still run on it.`,
        nextSteps: [
          'Read the reason below: not enough room on the other hosts, too many drains at once, or a gate (pause, fleet, maintenance).',
          `Free or add capacity, then start it again: freezer-dr drain ${host} (freezer-dr drain ${host} --dry-run shows the plan first).`,
          'If the host fails meanwhile, freezer-dr recovers its instances as for any host failure.',
        ],
        actionNeeded: true,
      };
    case 'drain-failed':
      return {
        label,
        title: `ACTION NEEDED: drain of ${host} stopped with an error`,
        headline: `The drain of compute host ${host} stopped before it finished.${f.selected ? ` ${f.recovered} of ${plural(f.selected, 'instance')} were moved.` : ''} Instances not moved still run on ${host}.`,
        nextSteps: [
          'Read the error below and the execution history.',
          `List what is still on the host: openstack server list --all-projects --host ${host}`,
          `Fix the cause, then drain again (freezer-dr drain ${host}) or move the instances by hand.`,
          drainEnable(host),
        ],
        actionNeeded: true,
      };
    case 'not-confirmed':
      return {
        label,
        title: `${host} was reported down but the failure is not confirmed; nothing was done`,
        headline: `An alert said compute host ${host} is down, but its compute service kept reporting to Nova, so freezer-dr changed nothing. Further false alarms for this host are not notified for a while.`,
        nextSteps: [
          'Check the alert and the host: is it really unusable?',
          `If it is, stop nova-compute on ${host} or power the host off, then start the recovery again.`,
          'If it was a false alarm, nothing needs to be done.',
        ],
        actionNeeded: false,
      };
  }
}

export function tenantWording(kind: NotificationKind, f: KindFacts): Wording {
  const label = KIND_LABELS[kind];
  const where = f.showHost ? `compute host ${f.host}` : 'the physical host they were running on';
  const contact = f.contact
    ? `If you need help, contact ${f.contact} and quote incident ${f.incident}.`
    : `If you need help, contact your cloud support and quote incident ${f.incident}.`;
  const restarted =
    'A recovered instance was restarted on another host, like a hard reboot: anything only in its memory is lost. An instance whose root disk was neither a volume nor on shared storage was rebuilt from its image.';
  if (kind === 'recovery') {
    const allOk = f.failed === 0;
    return {
      label,
      title: allOk
        ? `Your ${f.selected === 1 ? 'instance was' : 'instances were'} restarted after a host failure`
        : `${f.failed} of your instances could not be restarted after a host failure`,
      headline: allOk
        ? `Your instances below were affected by a failure of ${where}. They were restarted on other hosts.`
        : `Your instances below were affected by a failure of ${where}. ${f.recovered} of ${plural(f.selected, 'instance')} were restarted on other hosts; ${f.failed} could not be, and the cloud operators are working on them.`,
      nextSteps: [
        'Check that your services on these instances are working again.',
        restarted,
        ...(allOk
          ? []
          : ['The instances marked NOT recovered are still down; you will hear from the operators.']),
        contact,
      ],
      actionNeeded: !allOk,
    };
  }
  if (kind === 'drain' || kind === 'drain-refused' || kind === 'drain-failed') {
    const moved = f.recovered;
    const stayed = f.failed;
    return {
      label,
      title:
        stayed === 0
          ? `Your ${f.selected === 1 ? 'instance was' : 'instances were'} moved to another host, without a reboot`
          : `Planned maintenance: ${stayed} of your instances could not be moved yet`,
      headline: `${where[0]?.toUpperCase()}${where.slice(1)} shows early signs of a hardware problem, so the cloud operators are moving instances off it before it fails. ${
        moved
          ? `${moved} of ${plural(f.selected, 'instance')} were live-migrated: they kept running, with no reboot and the same addresses. `
          : ''
      }${stayed ? `${stayed} could not be moved yet and still run where they were.` : ''}`,
      nextSteps: [
        'You do not need to do anything. A live migration may pause an instance for a moment; connections normally survive it.',
        ...(stayed
          ? [
              'If the host fails before the others move, they are restarted on another host automatically (like a hard reboot).',
            ]
          : []),
        contact,
      ],
      actionNeeded: false,
    };
  }
  if (kind === 'not-confirmed') {
    return {
      label,
      title: 'A possible host problem affecting your instances',
      headline: `A monitoring alert reported a problem with ${where}. It was not confirmed and nothing was changed.`,
      nextSteps: [contact],
      actionNeeded: false,
    };
  }
  return {
    label,
    title: 'Your instances are down after a host failure',
    headline: `Your instances below were affected by a failure of ${where}. ${
      f.recovered
        ? `Automatic recovery stopped before it finished: ${f.recovered} of ${plural(f.selected, 'instance')} were restarted on other hosts, the others are still down.`
        : 'They could not yet be restarted automatically.'
    } The cloud operators have been told and are working on it.`,
    nextSteps: [
      'You do not need to do anything now. If a service is urgent, you can start a replacement instance from an image, snapshot or volume.',
      contact,
    ],
    actionNeeded: true,
  };
}
