// freezer-dr's own monitors (config `monitors`; the nova-services poll by default) feed the
// intake exactly as an alert does: the same decisions, gates and execution names, so an
// alert and the poll for one incident start one recovery, and a host is recovered with no
// external monitor at all. `npm start` polls every intervalSeconds; on AWS a scheduled
// function (functions/monitor.ts) polls every minute.

import type { AlertOutcome, Intake } from './intake/intake.js';
import type { Monitor } from './ports.js';
import type { Runtime } from './runtime.js';

export interface PollResult {
  outcomes: AlertOutcome[];
  /** Monitors that could not be read, with the reason. */
  errors: { monitor: string; error: string }[];
}

/** One read of every monitor, each signal decided by the intake (decisions not logged: callers choose). */
export async function pollMonitors(rt: Runtime, intake: Intake, monitors: Monitor[]): Promise<PollResult> {
  const result: PollResult = { outcomes: [], errors: [] };
  for (const monitor of monitors) {
    try {
      const signals = await monitor.poll(rt.cloud);
      if (signals.length) {
        result.outcomes.push(
          ...(await intake.decideSignals(signals, `monitor:${monitor.name}`, { quiet: true })),
        );
      }
    } catch (error) {
      result.errors.push({ monitor: monitor.name, error: (error as Error).message });
    }
  }
  return result;
}

/**
 * Logs what a poll decided, but only what changed since the previous poll (a host whose
 * recovery runs would otherwise log "already-handled" every few seconds).
 */
export function changeLogger(rt: Runtime): (result: PollResult) => void {
  const last = new Map<string, string>();
  return ({ outcomes, errors }) => {
    const seen = new Set<string>();
    for (const outcome of outcomes) {
      seen.add(outcome.host);
      const key = `${outcome.decision}:${outcome.reason}:${outcome.executionName ?? ''}`;
      if (last.get(outcome.host) === key) continue;
      last.set(outcome.host, key);
      rt.logger.info('alert decision', { requestId: `monitor:${outcome.source}`, ...outcome });
    }
    for (const host of last.keys()) if (!seen.has(host) && !host.startsWith('!')) last.delete(host);
    for (const { monitor, error } of errors) {
      if (last.get(`!${monitor}`) === error) continue;
      last.set(`!${monitor}`, error);
      rt.logger.warn('monitor could not be read', { monitor, error });
    }
    if (!errors.length) for (const key of [...last.keys()]) if (key.startsWith('!')) last.delete(key);
  };
}

/** `npm start`: polls each monitor on its own interval until stopped. */
export function startMonitorLoop(
  rt: Runtime,
  intake: () => Promise<Intake>,
  monitors: Monitor[],
): { stop(): void } {
  const log = changeLogger(rt);
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;
  for (const monitor of monitors) {
    let busy = false;
    const tick = async () => {
      if (busy || stopped) return; // a slow Nova never stacks polls
      busy = true;
      try {
        log(await pollMonitors(rt, await intake(), [monitor]));
      } catch (error) {
        rt.logger.warn('monitor poll failed', { monitor: monitor.name, error: (error as Error).message });
      } finally {
        busy = false;
      }
    };
    timers.push(setInterval(tick, monitor.intervalSeconds * 1000));
    void tick();
  }
  return {
    stop() {
      stopped = true;
      for (const timer of timers) clearInterval(timer);
    },
  };
}
