// One call per host at a time (BMCs handle few sessions, and an `on` racing an `off` must
// not interleave), with the waiting line kept short and honest: power actions go ahead of
// status reads, so a flood of reads cannot delay a fence; the line has a length and a wait
// limit, each refused with a reason; and a waiting call whose caller has gone is dropped,
// so an `off` nobody waits for any more (the admins already told fencing failed) never runs.
// A call that has started is never cut short: an interrupted `off` is worse than a late one.

export type QueueRefusalReason = 'queue-full' | 'queue-wait-exceeded' | 'caller-gone';

/** A call the queue did not run: nothing was sent to the BMC. */
export class QueueRefusalError extends Error {
  constructor(
    readonly reason: QueueRefusalReason,
    message: string,
  ) {
    super(message);
    this.name = 'QueueRefusalError';
  }
}

export interface HostQueueLimits {
  /** Calls waiting per host (the one running not counted). */
  maxWaiting: number;
  /** How long a call may wait for its turn. */
  maxWaitMs: number;
}

interface Waiting {
  urgent: boolean;
  start(): void;
  refuse(error: QueueRefusalError): void;
}

interface Lane {
  running: boolean;
  waiting: Waiting[];
}

export class HostQueue {
  private readonly lanes = new Map<string, Lane>();

  constructor(private readonly limits: HostQueueLimits) {}

  /** Calls waiting for `host` (for tests and operators; the one running is not counted). */
  waiting(host: string): number {
    return this.lanes.get(host)?.waiting.length ?? 0;
  }

  /**
   * Runs `task` when it is `host`'s turn. Urgent calls (power actions) wait only behind the
   * running call and earlier urgent ones. Rejects with QueueRefusalError, without running
   * `task`, when the line is full, the wait runs out, or `signal` aborts first.
   */
  run<T>(host: string, urgent: boolean, task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(gone(host));
    let lane = this.lanes.get(host);
    if (!lane) {
      lane = { running: false, waiting: [] };
      this.lanes.set(host, lane);
    }
    const line = lane;
    return new Promise<T>((resolve, reject) => {
      const execute = () => {
        line.running = true;
        task()
          .then(resolve, reject)
          .finally(() => {
            line.running = false;
            this.next(host, line);
          });
      };
      if (!line.running && line.waiting.length === 0) {
        execute();
        return;
      }
      if (line.waiting.length >= this.limits.maxWaiting && !this.makeRoom(line, urgent)) {
        reject(
          new QueueRefusalError(
            'queue-full',
            `${line.waiting.length} calls already wait for ${host} (limit ${this.limits.maxWaiting})`,
          ),
        );
        return;
      }
      const leave = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const at = line.waiting.indexOf(entry);
        if (at >= 0) line.waiting.splice(at, 1);
      };
      const entry: Waiting = {
        urgent,
        start: () => {
          leave();
          execute();
        },
        refuse: (error) => {
          leave();
          reject(error);
          if (!line.running && line.waiting.length === 0 && this.lanes.get(host) === line)
            this.lanes.delete(host);
        },
      };
      const timer = setTimeout(
        () =>
          entry.refuse(
            new QueueRefusalError(
              'queue-wait-exceeded',
              `waited ${this.limits.maxWaitMs} ms for ${host} without its turn coming`,
            ),
          ),
        this.limits.maxWaitMs,
      );
      const onAbort = () => entry.refuse(gone(host));
      signal?.addEventListener('abort', onAbort, { once: true });
      // Urgent calls go after the urgent ones already waiting, ahead of every status read.
      const at = urgent ? line.waiting.findIndex((w) => !w.urgent) : -1;
      line.waiting.splice(at < 0 ? line.waiting.length : at, 0, entry);
    });
  }

  /** A full line still takes an urgent call, by turning away the newest read; false if it cannot. */
  private makeRoom(line: Lane, urgent: boolean): boolean {
    if (!urgent) return false;
    const newestRead = line.waiting.findLastIndex((w) => !w.urgent);
    if (newestRead < 0) return false;
    line.waiting[newestRead]?.refuse(
      new QueueRefusalError('queue-full', 'turned away to let a power action wait in its place'),
    );
    return true;
  }

  private next(host: string, line: Lane): void {
    const first = line.waiting[0];
    if (first) first.start();
    else if (this.lanes.get(host) === line) this.lanes.delete(host);
  }
}

const gone = (host: string) =>
  new QueueRefusalError('caller-gone', `the caller left before the call to ${host} started`);
