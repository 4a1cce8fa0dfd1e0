// One active `freezer-dr serve` per data directory. freezer-dr runs active/passive: the
// active instance holds a lease in <dataDir>/serve-lease.sqlite and renews it; another
// instance on the same directory stays passive (it serves nothing and re-drives nothing)
// until the holder's lease expires or, on the same machine, the holder's process is gone,
// then takes it over. Taking and renewing are compare-and-set transactions (SQLite's
// BEGIN IMMEDIATE serialises them across processes), so two instances never both hold it.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import { loadSqlite } from './execution-store.js';

export interface LeaseHolder {
  /** Unique per process and start: a restarted holder is a new one. */
  id: string;
  pid: number;
  host: string;
  /** The port it serves (0 until it is listening), and its URL once known. */
  port: number;
  url: string | null;
  /** When it became active, and last renewed (ms since the epoch). */
  sinceMs: number;
  renewedMs: number;
  ttlMs: number;
}

export interface LeaseOptions {
  /** A holder that has not renewed for this long has lost the lease. */
  ttlMs: number;
  /** The port this instance will serve (for the other instance's message). */
  port: number;
}

/** Why a lease is free to take, or null while its holder keeps it. */
function vacancy(holder: LeaseHolder, now: number): string | null {
  if (now - holder.renewedMs > holder.ttlMs) {
    return `its lease expired ${((now - holder.renewedMs) / 1000).toFixed(1)} s after the last renewal`;
  }
  if (holder.host === hostname() && !processExists(holder.pid)) return `pid ${holder.pid} is gone`;
  return null;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, someone else's
  }
}

/** "pid 4242 on host db-1, port 8420 (http://127.0.0.1:8420), active since 2026-12-02T06:00:00.000Z" */
export function describeHolder(holder: LeaseHolder): string {
  const port = holder.port ? `, port ${holder.port}${holder.url ? ` (${holder.url})` : ''}` : '';
  return `pid ${holder.pid} on host ${holder.host}${port}, active since ${new Date(holder.sinceMs).toISOString()}`;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS lease (
    slot INTEGER PRIMARY KEY CHECK (slot = 1),
    holder TEXT NOT NULL
  )`;

export type Attempt =
  | { taken: true; previous: { holder: LeaseHolder; why: string } | null }
  | { taken: false; holder: LeaseHolder };

export class ServeLease {
  readonly path: string;
  private readonly db: DatabaseSync;
  private readonly self: LeaseHolder;

  constructor(dataDir: string, options: LeaseOptions) {
    mkdirSync(dataDir, { recursive: true });
    this.path = join(dataDir, 'serve-lease.sqlite');
    const { DatabaseSync: Database } = loadSqlite();
    this.db = new Database(this.path);
    // Another instance's transaction lasts microseconds: wait for it rather than fail.
    this.db.exec('PRAGMA busy_timeout = 5000');
    this.db.exec(SCHEMA);
    const now = Date.now();
    this.self = {
      id: randomUUID(),
      pid: process.pid,
      host: hostname(),
      port: options.port,
      url: null,
      sinceMs: now,
      renewedMs: now,
      ttlMs: options.ttlMs,
    };
  }

  /** One compare-and-set: `change` sees the current holder (or none) and returns the row to write, or null. */
  private transaction<T>(
    change: (current: LeaseHolder | null) => { write: LeaseHolder | null; result: T },
  ): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const row = this.db.prepare('SELECT holder FROM lease WHERE slot = 1').get() as
        | { holder: string }
        | undefined;
      const { write, result } = change(row ? (JSON.parse(row.holder) as LeaseHolder) : null);
      if (write) {
        this.db
          .prepare(
            'INSERT INTO lease (slot, holder) VALUES (1, ?) ON CONFLICT (slot) DO UPDATE SET holder = excluded.holder',
          )
          .run(JSON.stringify(write));
      }
      this.db.exec('COMMIT');
      return result;
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }

  /** Takes the lease when it is free, expired, or its holder's process is gone; else says who holds it. */
  tryAcquire(): Attempt {
    return this.transaction<Attempt>((current) => {
      const now = Date.now();
      let previous: { holder: LeaseHolder; why: string } | null = null;
      if (current && current.id !== this.self.id) {
        const why = vacancy(current, now);
        if (why === null) return { write: null, result: { taken: false, holder: current } };
        previous = { holder: current, why };
      }
      if (current?.id !== this.self.id) this.self.sinceMs = now;
      this.self.renewedMs = now;
      return { write: { ...this.self }, result: { taken: true, previous } };
    });
  }

  /** Keeps the lease; false when another instance holds it now (this one was too slow to renew). */
  renew(update: Partial<Pick<LeaseHolder, 'port' | 'url'>> = {}): boolean {
    return this.transaction((current) => {
      if (current?.id !== this.self.id) return { write: null, result: false };
      Object.assign(this.self, update, { renewedMs: Date.now() });
      return { write: { ...this.self }, result: true };
    });
  }

  /** Who holds the lease now (null: nobody). */
  holder(): LeaseHolder | null {
    const row = this.db.prepare('SELECT holder FROM lease WHERE slot = 1').get() as
      | { holder: string }
      | undefined;
    return row ? (JSON.parse(row.holder) as LeaseHolder) : null;
  }

  /** Gives the lease up (a clean stop), so a passive instance takes over at once. */
  release(): void {
    this.transaction((current) => {
      if (current?.id === this.self.id) this.db.prepare('DELETE FROM lease WHERE slot = 1').run();
      return { write: null, result: undefined };
    });
  }

  close(): void {
    this.db.close();
  }
}
