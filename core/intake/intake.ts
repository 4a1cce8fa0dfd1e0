// The alert intake, transport-neutral: front door (method, size, authentication) ->
// parse -> normalise -> decide -> start. Every alert gets exactly one structured log line with its decision; a host
// incident gets at most one execution (deterministic name, ExecutionAlreadyExists =
// already handled); every refusal of a confirmed failure is notified once per reason.
import { randomUUID } from 'node:crypto';
import { matchesGlob } from 'node:path';
import type { ExecutionsApi } from '../executions.js';
import type { AlertSignal, AlertSource, Channel } from '../ports.js';
import type { Runtime } from '../runtime.js';
import { assessService } from '../service-health.js';
import type { IntakeConfig } from './config.js';
import { decideDegraded } from './drain-intake.js';
import { type Admitted, FrontDoor, type IntakeCounters } from './front-door.js';
import { type Eligibility, type FleetPicture, fleetPicture, hostEligibility, runningSince } from './gates.js';
import { normalise } from './normalise.js';
import { pausedBy } from './pause.js';
import { type NoticeSender, notifyRefusals, type RefusalReason, type Refusals } from './refusals.js';
import { type IntakeRequest, parseBody } from './request.js';
import { decisionsResponse, type IntakeResponse, refusalResponse } from './response.js';
import { type FleetSnapshot, SnapshotReader } from './snapshot.js';
import type { StateStore } from './state-store.js';

export type Decision = 'started' | 'already-handled' | 'recorded' | 'skipped' | 'refused' | 'error';

export interface AlertOutcome {
  source: string;
  host: string;
  signal: AlertSignal['state'];
  fingerprint: string | null;
  decision: Decision;
  /** Short code: resolved, ignored, started, maintenance, mass-failure, ... */
  reason: string;
  detail: string;
  incident: string | null;
  executionName: string | null;
  /** Which witnesses agree so far, e.g. "alert (alertmanager) + nova-stale", or "alert (generic); Nova: up". */
  channels: string | null;
}

export type { IntakeCounters } from './front-door.js';

export interface IntakeDeps {
  runtime: Runtime;
  executions: ExecutionsApi;
  /** The configured payload parsers, in matching order (built at the edge from config `alertSources`). */
  sources: AlertSource[];
  /** The host drain's executions: degraded alerts start drains; without it they are recorded only. */
  drains?: ExecutionsApi;
  /** Notify-once and start-window state; the runtime's own when not given. */
  store?: StateStore;
  /** The webhook's front door when it was built before the runtime (functions/webhook.ts). */
  frontDoor?: FrontDoor;
  /** How refusal notices leave; the runtime's notifiers when not given. */
  notice?: NoticeSender;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
}

interface DecideContext {
  receivedAt: string;
  refusals: Refusals;
  paused: string | null;
  /** The fleet-wide gates, evaluated once per request when a host first needs them. */
  picture: FleetPicture | null;
}

type HostResult = Pick<
  AlertOutcome,
  'decision' | 'reason' | 'detail' | 'incident' | 'executionName' | 'channels'
>;

const SLOT_BUCKET = 'recovery-starts';
/** How long a start holds its host for other incidents: beyond any snapshot's and ListExecutions' lag. */
const HOST_START_CLAIM_MS = 30_000;
/** How long this process remembers names it started, to answer repeats without a call. */
const KNOWN_STARTED_MS = 3_600_000;

export class Intake {
  readonly counters: IntakeCounters;
  readonly frontDoor: FrontDoor;
  private readonly config: IntakeConfig;
  private readonly sources: AlertSource[];
  private readonly snapshots: SnapshotReader;
  private readonly inFleet: (host: string) => boolean;
  private readonly env: NodeJS.ProcessEnv;
  private readonly now: () => number;
  private readonly inFlight = new Map<string, Promise<HostResult>>();
  private readonly knownStarted = new Map<string, number>();
  private readonly store: StateStore;

  constructor(private readonly deps: IntakeDeps) {
    const rt = deps.runtime;
    this.config = rt.config.intake;
    this.env = deps.env ?? process.env;
    this.now = deps.now ?? Date.now;
    this.store = deps.store ?? rt.state;
    this.sources = deps.sources;
    this.frontDoor =
      deps.frontDoor ??
      new FrontDoor({
        config: this.config,
        store: this.store,
        env: this.env,
        logger: rt.logger,
        now: this.now,
      });
    this.counters = this.frontDoor.counters;
    const fleet = this.config.fleet;
    this.inFleet = fleet.length ? (host) => fleet.some((glob) => matchesGlob(host, glob)) : () => true;
    this.snapshots = new SnapshotReader(
      async () => {
        const [services, running] = await Promise.all([
          rt.cloud.listComputeServices(),
          deps.executions.listRunning(),
        ]);
        return { services, running };
      },
      this.config.snapshotCacheMs,
      this.now,
    );
  }

  async handle(request: IntakeRequest, requestId: string | null = null): Promise<IntakeResponse> {
    const admitted = await this.frontDoor.admit(request, requestId);
    return 'status' in admitted ? admitted : this.handleAdmitted(request, admitted, requestId);
  }

  /** The rest of a request the front door let in: parse, normalise, decide. */
  async handleAdmitted(
    request: IntakeRequest,
    admitted: Admitted,
    requestId: string | null = null,
  ): Promise<IntakeResponse> {
    const parsed = parseBody(request.headers, admitted.bytes);
    if (!parsed.ok) return this.frontDoor.rejected(refusalResponse(parsed.refusal), requestId);
    const normalised = normalise(this.sources, parsed.value);
    if (!normalised.ok) return this.frontDoor.rejected(refusalResponse(normalised.refusal), requestId);
    const response = decisionsResponse(await this.decideSignals(normalised.signals, requestId));
    if (response.status >= 500) await this.frontDoor.release(admitted);
    return response;
  }

  /**
   * Decides each signal (from the webhook or freezer-dr's own monitor), logs one line per
   * decision unless `quiet`, and sends the refusal notices (once per reason per window).
   */
  async decideSignals(
    signals: AlertSignal[],
    requestId: string | null = null,
    options: { quiet?: boolean } = {},
  ): Promise<AlertOutcome[]> {
    const receivedAt = new Date(this.now()).toISOString();
    const refusals: Refusals = new Map();
    const outcomes = await this.decide(signals, receivedAt, refusals);
    // Decisions are on record before anything slow (a notifier) can run out the clock.
    if (!options.quiet) {
      for (const outcome of outcomes)
        this.deps.runtime.logger.info('alert decision', { requestId, ...outcome });
    }
    this.counters.alerts += outcomes.length;
    if (refusals.size) {
      const rt = this.deps.runtime;
      const notified = notifyRefusals(
        rt,
        this.store,
        refusals,
        receivedAt,
        this.config.notifyOnceSeconds,
        this.deps.notice,
      );
      let timer: NodeJS.Timeout | undefined;
      const budget = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), this.config.notifyWaitMs);
      });
      if ((await Promise.race([notified, budget])) === 'late') {
        rt.logger.warn('refusal notice still being delivered; answering the sender first', {
          requestId,
          waitMs: this.config.notifyWaitMs,
        });
      }
      clearTimeout(timer);
    }
    return outcomes;
  }

  private async decide(
    signals: AlertSignal[],
    receivedAt: string,
    refusals: Refusals,
  ): Promise<AlertOutcome[]> {
    const outcomes: AlertOutcome[] = new Array(signals.length);
    const downByHost = new Map<string, number[]>();
    const degradedByHost = new Map<string, number[]>();
    signals.forEach((signal, index) => {
      if (signal.state === 'degraded' && this.deps.drains) {
        const list = degradedByHost.get(signal.host) ?? [];
        list.push(index);
        degradedByHost.set(signal.host, list);
        return;
      }
      if (signal.state === 'down') {
        const list = downByHost.get(signal.host) ?? [];
        list.push(index);
        downByHost.set(signal.host, list);
        return;
      }
      const reason =
        signal.state === 'up' ? 'resolved' : signal.state === 'degraded' ? 'drain-not-configured' : 'ignored';
      outcomes[index] = {
        ...base(signal),
        decision: 'recorded',
        reason,
        detail:
          signal.state === 'degraded' ? `${signal.reason} (no drain state machine to start)` : signal.reason,
        incident: null,
        executionName: null,
        channels: null,
      };
    });
    if (degradedByHost.size) await this.decideDrains(signals, degradedByHost, outcomes, receivedAt);
    if (downByHost.size === 0) return outcomes;

    let snapshot: FleetSnapshot | null = null;
    let failure = '';
    try {
      snapshot = await this.snapshots.get();
    } catch (error) {
      failure = `cannot read Nova services or running recoveries: ${(error as Error).message}`;
    }
    const context: DecideContext = {
      receivedAt,
      refusals,
      paused: pausedBy(this.config.pause, this.env),
      picture: null,
    };
    // The hosts of one request side by side: an Alertmanager group naming several hosts
    // waits for one StartExecution round trip, not one per host.
    await Promise.all(
      [...downByHost].map(async ([host, indices]) => {
        const first = signals[indices[0] as number] as AlertSignal;
        const result: HostResult = snapshot
          ? await this.decideHost(host, first, indices.length, snapshot, context)
          : {
              decision: 'error',
              reason: 'cloud-unavailable',
              detail: failure,
              incident: null,
              executionName: null,
              channels: null,
            };
        for (const index of indices) outcomes[index] = { ...base(signals[index] as AlertSignal), ...result };
      }),
    );
    return outcomes;
  }

  private async decideHost(
    host: string,
    signal: AlertSignal,
    repeats: number,
    snapshot: FleetSnapshot,
    context: DecideContext,
  ): Promise<HostResult> {
    const rt = this.deps.runtime;
    const staleAfter = rt.policy.confirm.staleAfterSeconds;
    const now = this.now();
    const verdict = hostEligibility(host, snapshot, this.inFleet, staleAfter, now);
    if (!verdict.eligible) {
      return {
        decision: 'skipped',
        reason: verdict.reason,
        detail: verdict.detail,
        incident: null,
        executionName: null,
        channels: null,
      };
    }
    const name = verdict.name;
    const channels = channelSummary(signal, verdict);
    // Single flight per execution name: concurrent repeats of one incident wait for the
    // first attempt instead of racing it for a start slot. get and set happen with no
    // await in between, so this is atomic on the event loop.
    const pending = this.inFlight.get(name);
    if (pending) {
      const first = await pending;
      this.counters.alreadyHandled += first.decision === 'started' ? 1 : 0;
      return first.decision === 'started'
        ? {
            ...first,
            decision: 'already-handled',
            reason: 'already-handled',
            detail: 'started by a concurrent alert',
            channels,
          }
        : first;
    }
    const until = this.knownStarted.get(name);
    if (verdict.running || (until !== undefined && until > now)) {
      this.counters.alreadyHandled += 1;
      return {
        decision: 'already-handled',
        reason: 'already-handled',
        detail: 'execution already exists',
        incident: verdict.incident,
        executionName: name,
        channels,
      };
    }
    const attempt = this.attemptStart(host, signal, repeats, verdict, snapshot, now, context);
    this.inFlight.set(name, attempt);
    try {
      return await attempt;
    } finally {
      this.inFlight.delete(name);
    }
  }

  /**
   * One start per host across containers until Step Functions lists it running: a host
   * that reports between two containers' reads of Nova would otherwise be two incidents.
   * A claim whose execution has already closed (a recovery that ended within the claim's
   * time) is taken over, so a new incident right after it is not mistaken for a duplicate.
   */
  private async claimHostStart(host: string, name: string): Promise<boolean> {
    const key = `host-start:${host}`;
    if (await this.store.claimOnce(key, HOST_START_CLAIM_MS, name)) return true;
    const holder = await this.store.claimHolder(key);
    if (holder === null) return this.store.claimOnce(key, HOST_START_CLAIM_MS, name);
    if (!(await this.deps.executions.hasEnded(holder))) return false;
    return this.store.takeOver(key, HOST_START_CLAIM_MS, name, holder);
  }

  /**
   * Degraded hosts, one after another (a storm of them takes drain slots in turn, and a
   * plan is read only for a host that got one); every repeat of a host shares its verdict.
   */
  private async decideDrains(
    signals: AlertSignal[],
    byHost: Map<string, number[]>,
    outcomes: AlertOutcome[],
    receivedAt: string,
  ): Promise<void> {
    const rt = this.deps.runtime;
    const drains = this.deps.drains as ExecutionsApi;
    let services: Awaited<ReturnType<Runtime['cloud']['listComputeServices']>> = [];
    let recoveriesRunning: { name: string }[] = [];
    let failure: string | null = null;
    try {
      [services, recoveriesRunning] = await Promise.all([
        rt.cloud.listComputeServices(),
        this.deps.executions.listRunning(),
      ]);
    } catch (error) {
      failure = `cannot read Nova services or running recoveries: ${(error as Error).message}`;
    }
    for (const indices of byHost.values()) {
      const first = signals[indices[0] as number] as AlertSignal;
      const verdict = failure
        ? {
            decision: 'error' as const,
            reason: 'cloud-unavailable',
            detail: failure,
            incident: null,
            executionName: null,
          }
        : await decideDegraded(first, {
            rt,
            drains,
            recoveriesRunning,
            services,
            store: this.store,
            inFleet: this.inFleet,
            paused: pausedBy(this.config.pause, this.env),
            receivedAt,
            now: this.now(),
            ...(this.deps.notice ? { notice: this.deps.notice } : {}),
          });
      if (verdict.decision === 'started') this.counters.started += 1;
      if (verdict.decision === 'refused') this.counters.refused += 1;
      if (verdict.decision === 'already-handled') this.counters.alreadyHandled += 1;
      for (const index of indices)
        outcomes[index] = {
          ...base(signals[index] as AlertSignal),
          ...verdict,
          channels: `alert (${first.source}): degraded`,
        };
    }
  }

  /** The fleet-wide gates, then a start slot, then StartExecution. Never throws. */
  private async attemptStart(
    host: string,
    signal: AlertSignal,
    repeats: number,
    verdict: Extract<Eligibility, { eligible: true }>,
    snapshot: FleetSnapshot,
    now: number,
    context: DecideContext,
  ): Promise<HostResult> {
    const name = verdict.name;
    const named = {
      incident: verdict.incident,
      executionName: name,
      channels: channelSummary(signal, verdict),
    };
    const refuse = (reason: RefusalReason, detail: string): HostResult => {
      this.counters.refused += 1;
      const entry = context.refusals.get(reason) ?? { hosts: [], detail };
      entry.hosts.push(host);
      context.refusals.set(reason, entry);
      return { decision: 'refused', reason, detail, ...named };
    };
    if (context.paused) return refuse('paused', `recoveries are paused (${context.paused})`);
    context.picture ??= this.picture(snapshot, now);
    const { picture } = context;
    if (picture.refusal) return refuse(picture.refusal.reason, picture.refusal.detail);

    const { maxStartsPerWindow: limit, windowSeconds } = this.config.protection;
    const windowMs = windowSeconds * 1000;
    let slot: string | null = null;
    try {
      if (!(await this.claimHostStart(host, name))) {
        return {
          decision: 'skipped',
          reason: 'running-recovery',
          detail: 'another incident of this host was started moments ago',
          ...named,
        };
      }
      slot = await this.store.takeSlot(SLOT_BUCKET, limit, windowMs, runningSince(snapshot, now - windowMs));
      if (slot === null) {
        return refuse('rate-limited', `${limit} recoveries already started within ${windowSeconds} s`);
      }
      const waiting = verdict.nova.down
        ? verdict.nova.evidence
        : `${verdict.nova.evidence}: the recovery waits for Nova to agree before anything is powered off`;
      const result = await this.deps.executions.start({
        host,
        incident: verdict.incident,
        cause: `${signal.reason}; ${waiting}`,
        requestedAt: context.receivedAt,
        channels: inputChannels(signal, verdict, context.receivedAt),
        alert: {
          // Unique per attempt: Step Functions answers a same-name, same-input start with
          // success (not ExecutionAlreadyExists), which would report one run as started twice.
          attemptId: randomUUID(),
          source: signal.source,
          fingerprint: signal.fingerprint,
          reason: signal.reason,
          evidence: verdict.nova.evidence,
          alertsInRequest: repeats,
          receivedAt: context.receivedAt,
        },
      });
      this.remember(name, now);
      if (result.started) {
        this.counters.started += 1;
        return { decision: 'started', reason: 'started', detail: waiting, ...named };
      }
      await this.store.releaseSlot(SLOT_BUCKET, slot);
      this.counters.alreadyHandled += 1;
      return {
        decision: 'already-handled',
        reason: 'already-handled',
        detail: 'execution already exists',
        ...named,
      };
    } catch (error) {
      if (slot !== null) await this.store.releaseSlot(SLOT_BUCKET, slot).catch(() => undefined);
      return { decision: 'error', reason: 'start-failed', detail: (error as Error).message, ...named };
    }
  }

  /**
   * The fleet gates on Nova's view (down, stale or forced down). Alerts start recoveries
   * before Nova sees anything, so this gate only catches what Nova already shows; the same
   * gates run again in ConfirmHostFailure just before fencing, when hosts that failed
   * together have all gone silent, and that check is the one that guards the power.
   */
  private picture(snapshot: FleetSnapshot, now: number): FleetPicture {
    const staleAfter = this.deps.runtime.policy.confirm.staleAfterSeconds;
    return fleetPicture(
      snapshot.byHost.values(),
      this.inFleet,
      (s) => assessService(s, staleAfter, now).down,
      this.config.protection,
    );
  }

  private remember(name: string, now: number): void {
    this.knownStarted.set(name, now + KNOWN_STARTED_MS);
    if (this.knownStarted.size > 10_000) {
      for (const [key, until] of this.knownStarted) if (until <= now) this.knownStarted.delete(key);
    }
  }
}

const base = (signal: AlertSignal) => ({
  source: signal.source,
  host: signal.host,
  signal: signal.state,
  fingerprint: signal.fingerprint,
});

/** The witnesses so far, for the decision record: "alert (alertmanager) + nova-stale". */
function channelSummary(signal: AlertSignal, verdict: Extract<Eligibility, { eligible: true }>): string {
  const first = `${signal.channel ?? 'alert'} (${signal.source})`;
  if (signal.channel === 'nova-down') return first;
  if (!verdict.nova.down) return `${first}; Nova: not yet (${verdict.nova.evidence})`;
  return `${first} + ${verdict.novaDown ? 'nova-down' : 'nova-stale'}`;
}

/** The execution input's channels: the signal, and Nova when it already agrees. */
function inputChannels(
  signal: AlertSignal,
  verdict: Extract<Eligibility, { eligible: true }>,
  at: string,
): Channel[] {
  const channels: Channel[] = [
    { channel: signal.channel ?? 'alert', source: signal.source, at, detail: signal.reason },
  ];
  if (signal.channel !== 'nova-down' && verdict.nova.down) {
    channels.push({
      channel: verdict.novaDown ? 'nova-down' : 'nova-stale',
      source: 'nova',
      at,
      detail: verdict.nova.evidence,
    });
  }
  return channels;
}
