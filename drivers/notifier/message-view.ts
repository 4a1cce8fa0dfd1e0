// The view model every template and chat message renders: the RecoveryReport turned
// into display-ready values (formatted times, durations, one line per instance), cut
// down to one project's instances for a tenant message.
import { createHash } from 'node:crypto';
import type {
  InstanceOutcomeKind,
  InstanceReport,
  NotificationKind,
  RecoveryReport,
} from '../../core/ports.js';
import * as z from '../../core/zod.js';
import { adminWording, type KindFacts, tenantWording } from './templates/wording.js';

export type Audience = 'admin' | 'tenant';

/** An IANA time zone name that this Node's Intl knows. */
export const timeZoneSchema = z._default(
  z.string().check(
    z.refine(
      (zone) => {
        try {
          new Intl.DateTimeFormat('en', { timeZone: zone });
          return true;
        } catch {
          return false;
        }
      },
      { message: 'unknown time zone' },
    ),
  ),
  'UTC',
);

export interface ViewSettings {
  /** Shown in titles and footers, e.g. "Example Cloud". */
  cloudName: string;
  /** IANA zone for displayed times. */
  timeZone: string;
  /** Tenants see compute host names (Nova hides them from non-admins by default). */
  showHostsToTenants: boolean;
  /** Support address or URL quoted to tenants. */
  contact: string | null;
  /** Put in front of every subject, e.g. "[freezer-dr]". */
  subjectPrefix: string;
}

export interface InstanceView {
  id: string;
  name: string;
  projectId: string | null;
  projectName: string | null;
  outcome: InstanceOutcomeKind;
  ok: boolean;
  /** "Recovered", "NOT recovered", ... */
  outcomeLabel: string;
  fromHost: string | null;
  toHost: string | null;
  finalStatus: string | null;
  seconds: number | null;
  duration: string | null;
  reason: string | null;
  /** The whole outcome in one line, e.g. "recovered on compute-2 in 42 s (ACTIVE)". */
  summary: string;
  /** Where it went, e.g. "compute-7 → compute-2 in 42 s, ACTIVE", or why it did not. */
  detail: string;
}

/** How one affected project was (or was not) told; admin messages list these. */
export interface ProjectDelivery {
  projectId: string;
  projectName: string | null;
  instances: number;
  recipients: number;
  source: 'keystone' | 'override' | 'admins' | 'not-sent';
  note: string | null;
}

export interface MessageView {
  audience: Audience;
  kind: NotificationKind;
  kindLabel: string;
  actionNeeded: boolean;
  title: string;
  headline: string;
  nextSteps: string[];
  cloudName: string;
  host: string | null;
  /** The incident id; for tenants who may not see host names, a reference derived from it. */
  incident: string;
  /** What a tenant quotes to support (shown to admins too, so they can match it). */
  reference: string;
  cause: string | null;
  executionName: string | null;
  executionUrl: string | null;
  startedAt: string;
  finishedAt: string;
  duration: string;
  fence: { method: string; controller: string; verified: boolean; detail: string; summary: string } | null;
  timeline: { at: string; stage: string; detail: string }[];
  instances: InstanceView[];
  counts: { selected: number; recovered: number; failed: number; skipped: number };
  /** Tenant messages: the project they are about. */
  project: { id: string; name: string | null } | null;
  /** Admin messages: who among the tenants was told, and how. */
  projects: ProjectDelivery[];
  /** Set when a tenant message goes to the admins because the project has no address. */
  fallbackNote: string | null;
  /** Problems the reader should know about (e.g. template overrides that failed to load). */
  notes: string[];
  contact: string | null;
  subjectPrefix: string;
}

export function formatTime(iso: string, timeZone = 'UTC'): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second} ${parts.timeZoneName}`;
}

export function formatDuration(seconds: number | null): string | null {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return null;
  if (seconds < 60) return `${Math.round(seconds * 10) / 10} s`;
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h ? `${h} h ${m} min` : `${m} min ${s} s`;
}

const LABELS: Record<InstanceOutcomeKind, string> = {
  recovered: 'Recovered',
  'already-recovered': 'Already moved',
  failed: 'NOT recovered',
  gone: 'Deleted',
  migrated: 'Moved (live)',
  'not-migrated': 'NOT moved',
};

/** Outcomes that leave the instance not where it should be: drawn and counted as failed. */
export const isFailedOutcome = (outcome: InstanceOutcomeKind) =>
  outcome === 'failed' || outcome === 'not-migrated';
/** Outcomes where the instance runs where it should: recovered, or moved by a drain. */
export const isDoneOutcome = (outcome: InstanceOutcomeKind) =>
  outcome === 'recovered' || outcome === 'already-recovered' || outcome === 'migrated';

const TENANT_REASON = 'it could not be restarted automatically; the cloud operators have the details';

function instanceView(
  i: InstanceReport,
  audience: Audience,
  settings: ViewSettings,
  projectName: string | null,
): InstanceView {
  const showHost = audience === 'admin' || settings.showHostsToTenants;
  // Nova's and the relay's reasons name hosts and internal URLs: tenants who may not see hosts
  // get a reason in general words (the admins' message has the real one).
  const reason = showHost || !i.reason ? i.reason : TENANT_REASON;
  const duration = formatDuration(i.seconds);
  const dest = i.toHost && showHost ? `on ${i.toHost}` : 'on another host';
  const status = i.finalStatus ? ` (${i.finalStatus})` : '';
  const summary = {
    recovered: `recovered ${dest}${duration ? ` in ${duration}` : ''}${status}`,
    'already-recovered': `already running ${dest}${status}`,
    failed: `NOT recovered${reason ? `: ${reason}` : ''}`,
    gone: 'deleted before it could be recovered',
    migrated: `moved ${dest} while running, no reboot${duration ? `, in ${duration}` : ''}${status}`,
    'not-migrated': `NOT moved, still running where it was${reason ? `: ${reason}` : ''}`,
  }[i.outcome];
  const detail = isDoneOutcome(i.outcome)
    ? `${showHost ? `${i.fromHost} → ${i.toHost ?? '?'}` : 'on another host'}${duration ? ` in ${duration}` : ''}${i.finalStatus ? `, ${i.finalStatus}` : ''}`
    : i.outcome === 'not-migrated'
      ? `${showHost ? `still on ${i.fromHost}` : 'still where it was'}, running${reason ? `: ${reason}` : ''}`
      : i.outcome === 'failed'
        ? `${showHost ? `still on ${i.fromHost}` : 'still down'}${reason ? `: ${reason}` : ''}`
        : 'deleted before it could be recovered';
  return {
    id: i.id,
    name: i.name,
    projectId: i.projectId,
    projectName,
    detail,
    outcome: i.outcome,
    ok: !isFailedOutcome(i.outcome),
    outcomeLabel: LABELS[i.outcome] ?? i.outcome,
    fromHost: showHost ? i.fromHost : null,
    toHost: showHost ? i.toHost : null,
    finalStatus: i.finalStatus,
    seconds: i.seconds,
    duration,
    reason,
    summary,
  };
}

function facts(
  report: RecoveryReport,
  instances: InstanceReport[],
  settings: ViewSettings,
  showHost: boolean,
): KindFacts {
  return {
    host: report.host,
    incident: report.incident,
    selected: instances.length,
    recovered: instances.filter((i) => isDoneOutcome(i.outcome)).length,
    failed: instances.filter((i) => isFailedOutcome(i.outcome)).length,
    fenceVerified: report.fence?.verified === true,
    fenceController: report.fence?.controller ?? null,
    showHost,
    contact: settings.contact,
  };
}

/** Incident ids name the host; tenants who must not see host names get a digest instead. */
export function tenantReference(incident: string): string {
  return `FDR-${createHash('sha256').update(incident).digest('hex').slice(0, 10).toUpperCase()}`;
}

function common(report: RecoveryReport, settings: ViewSettings) {
  const seconds = (Date.parse(report.finishedAt) - Date.parse(report.startedAt)) / 1000;
  return {
    kind: report.kind,
    cloudName: settings.cloudName,
    incident: report.incident,
    reference: settings.showHostsToTenants ? report.incident : tenantReference(report.incident),
    executionName: report.executionName,
    executionUrl: report.executionUrl,
    startedAt: formatTime(report.startedAt, settings.timeZone),
    finishedAt: formatTime(report.finishedAt, settings.timeZone),
    duration: formatDuration(seconds) ?? 'unknown',
    contact: settings.contact,
    subjectPrefix: settings.subjectPrefix,
  };
}

export function adminView(
  report: RecoveryReport,
  settings: ViewSettings,
  options: { projects?: ProjectDelivery[]; projectNames?: Map<string, string | null>; notes?: string[] } = {},
): MessageView {
  const wording = adminWording(report.kind, facts(report, report.instances, settings, true));
  const names = options.projectNames ?? new Map<string, string | null>();
  const fence = report.fence
    ? {
        ...report.fence,
        summary: `${report.fence.verified ? '' : 'NOT VERIFIED OFF: '}${report.fence.method} (${report.fence.controller}): ${report.fence.detail}`,
      }
    : null;
  return {
    ...common(report, settings),
    audience: 'admin',
    kindLabel: wording.label,
    actionNeeded: wording.actionNeeded,
    title: wording.title,
    headline: wording.headline,
    nextSteps: wording.nextSteps,
    host: report.host,
    cause: report.cause,
    fence,
    timeline: report.timeline.map((t) => ({
      at: formatTime(t.at, settings.timeZone),
      stage: t.stage,
      detail: t.detail,
    })),
    instances: report.instances.map((i) =>
      instanceView(i, 'admin', settings, i.projectId ? (names.get(i.projectId) ?? null) : null),
    ),
    counts: report.counts,
    project: null,
    projects: options.projects ?? [],
    fallbackNote: null,
    notes: options.notes ?? [],
  };
}

/** One project's view: only its own instances, no timeline, fencing or alert text. */
export function tenantView(
  report: RecoveryReport,
  settings: ViewSettings,
  project: { id: string; name: string | null },
  options: { fallbackNote?: string | null; notes?: string[] } = {},
): MessageView {
  const own = report.instances.filter((i) => i.projectId === project.id);
  const showHost = settings.showHostsToTenants;
  const reference = showHost ? report.incident : tenantReference(report.incident);
  const wording = tenantWording(report.kind, {
    ...facts(report, own, settings, showHost),
    incident: reference,
  });
  const count = (...kinds: InstanceOutcomeKind[]) => own.filter((i) => kinds.includes(i.outcome)).length;
  return {
    ...common(report, settings),
    audience: 'tenant',
    kindLabel: wording.label,
    actionNeeded: wording.actionNeeded,
    title: wording.title,
    headline: wording.headline,
    nextSteps: wording.nextSteps,
    host: showHost ? report.host : null,
    incident: reference,
    reference,
    cause: null,
    executionName: null,
    executionUrl: null,
    fence: null,
    timeline: [],
    instances: own.map((i) => instanceView(i, 'tenant', settings, project.name)),
    counts: {
      selected: own.length,
      recovered: count('recovered', 'already-recovered', 'migrated'),
      failed: count('failed', 'not-migrated'),
      skipped: 0,
    },
    project,
    projects: [],
    fallbackNote: options.fallbackNote ?? null,
    notes: options.notes ?? [],
  };
}
