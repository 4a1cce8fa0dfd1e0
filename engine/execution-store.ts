// Executions and their events on disk, so the local Step Functions endpoint keeps its
// history across restarts and finds the executions a crash left RUNNING. Node 22's
// built-in node:sqlite (no native npm module); every write is synchronous, so an event
// the engine reported is on disk before the next step runs.
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { DatabaseSync as Database } from 'node:sqlite';
import type { StoredEvent } from './history.js';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';

export interface ExecutionRecord {
  name: string;
  arn: string;
  stateMachineArn: string;
  /** The execution input exactly as given to StartExecution. */
  input: string;
  status: ExecutionStatus;
  startMs: number;
  stopMs: number | null;
  output: string | null;
  error: string | null;
  cause: string | null;
  redriveCount: number;
  redriveMs: number | null;
}

export interface ListQuery {
  /** Only this state machine's executions (all when absent). */
  stateMachineArn?: string;
  status?: ExecutionStatus;
  /** Resume after this (startMs, name), newest first. */
  after?: { startMs: number; name: string };
  limit: number;
}

/** node:sqlite is stable enough for this and flagless on Node 22, but warns once at load; that warning is noise for operators. */
export function loadSqlite(): typeof import('node:sqlite') {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (String(warning).includes('SQLite is an experimental feature')) return;
    (emit as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return createRequire(import.meta.url)('node:sqlite');
  } catch (error) {
    throw new Error(
      `the executions store needs Node 22 (node:sqlite), this is ${process.version}: run through npm (npm start, npm run freezer-dr -- ...) so node_modules/.bin/node is used (${(error as Error).message})`,
    );
  } finally {
    process.emitWarning = emit;
  }
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS executions (
    name TEXT PRIMARY KEY,
    arn TEXT NOT NULL,
    state_machine_arn TEXT NOT NULL,
    input TEXT NOT NULL,
    status TEXT NOT NULL,
    start_ms INTEGER NOT NULL,
    stop_ms INTEGER,
    output TEXT,
    error TEXT,
    cause TEXT,
    redrive_count INTEGER NOT NULL DEFAULT 0,
    redrive_ms INTEGER
  );
  CREATE INDEX IF NOT EXISTS executions_by_start ON executions (start_ms DESC, name DESC);
  CREATE TABLE IF NOT EXISTS events (
    execution TEXT NOT NULL,
    seq INTEGER NOT NULL,
    event TEXT NOT NULL,
    PRIMARY KEY (execution, seq)
  );
`;

type Row = Record<string, string | number | null>;

const toRecord = (row: Row): ExecutionRecord => ({
  name: String(row.name),
  arn: String(row.arn),
  stateMachineArn: String(row.state_machine_arn),
  input: String(row.input),
  status: row.status as ExecutionStatus,
  startMs: Number(row.start_ms),
  stopMs: row.stop_ms === null ? null : Number(row.stop_ms),
  output: row.output === null ? null : String(row.output),
  error: row.error === null ? null : String(row.error),
  cause: row.cause === null ? null : String(row.cause),
  redriveCount: Number(row.redrive_count),
  redriveMs: row.redrive_ms === null ? null : Number(row.redrive_ms),
});

export class ExecutionStore {
  readonly path: string;
  private readonly db: Database;
  private readonly nextSeq = new Map<string, number>();

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.path = join(dataDir, 'executions.sqlite');
    const { DatabaseSync } = loadSqlite();
    this.db = new DatabaseSync(this.path);
    // WAL + NORMAL: a committed write survives a killed process (not a power cut, which a laptop demo can afford).
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;');
    this.db.exec(SCHEMA);
  }

  create(record: ExecutionRecord): void {
    this.db
      .prepare(
        `INSERT INTO executions (name, arn, state_machine_arn, input, status, start_ms, stop_ms, output, error, cause, redrive_count, redrive_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        record.name,
        record.arn,
        record.stateMachineArn,
        record.input,
        record.status,
        record.startMs,
        record.stopMs,
        record.output,
        record.error,
        record.cause,
        record.redriveCount,
        record.redriveMs,
      );
    this.nextSeq.set(record.name, 1);
  }

  get(name: string): ExecutionRecord | undefined {
    const row = this.db.prepare('SELECT * FROM executions WHERE name = ?').get(name) as Row | undefined;
    return row ? toRecord(row) : undefined;
  }

  list(query: ListQuery): ExecutionRecord[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.stateMachineArn) {
      where.push('state_machine_arn = ?');
      params.push(query.stateMachineArn);
    }
    if (query.status) {
      where.push('status = ?');
      params.push(query.status);
    }
    if (query.after) {
      where.push('(start_ms < ? OR (start_ms = ? AND name < ?))');
      params.push(query.after.startMs, query.after.startMs, query.after.name);
    }
    const sql = `SELECT * FROM executions ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY start_ms DESC, name DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...params, query.limit) as Row[]).map(toRecord);
  }

  running(): ExecutionRecord[] {
    return (this.db.prepare("SELECT * FROM executions WHERE status = 'RUNNING'").all() as Row[]).map(
      toRecord,
    );
  }

  appendEvent(name: string, event: StoredEvent): void {
    let seq = this.nextSeq.get(name);
    if (seq === undefined) {
      const row = this.db.prepare('SELECT MAX(seq) AS seq FROM events WHERE execution = ?').get(name) as Row;
      seq = Number(row.seq ?? 0) + 1;
    }
    this.db
      .prepare('INSERT INTO events (execution, seq, event) VALUES (?, ?, ?)')
      .run(name, seq, JSON.stringify(event));
    this.nextSeq.set(name, seq + 1);
  }

  events(name: string): StoredEvent[] {
    const rows = this.db
      .prepare('SELECT event FROM events WHERE execution = ? ORDER BY seq')
      .all(name) as Row[];
    return rows.map((row) => JSON.parse(String(row.event)) as StoredEvent);
  }

  /** Records how a run ended; a stop recorded earlier wins (the engine still reports the abort). */
  finish(
    name: string,
    end: {
      status: ExecutionStatus;
      stopMs: number;
      output: string | null;
      error: string | null;
      cause: string | null;
    },
  ): boolean {
    const result = this.db
      .prepare(
        `UPDATE executions SET status = ?, stop_ms = ?, output = ?, error = ?, cause = ?
         WHERE name = ? AND status = 'RUNNING'`,
      )
      .run(end.status, end.stopMs, end.output, end.error, end.cause, name);
    return Number(result.changes) === 1;
  }

  markRedriven(name: string, at: number): number {
    this.db
      .prepare('UPDATE executions SET redrive_count = redrive_count + 1, redrive_ms = ? WHERE name = ?')
      .run(at, name);
    return this.get(name)?.redriveCount ?? 0;
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}
