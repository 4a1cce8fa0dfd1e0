// What `npm start` shows besides the progress of executions: each webhook decision and each
// report of the `log` notifier, one readable line each. Both are INFO log lines, and serve
// keeps the log at WARN (the steps' own INFO lines would drown the console), so the
// runtime's logger echoes these messages to the console, whatever the level, and logs
// them as usual.
import { Logger } from '@aws-lambda-powertools/logger';
import type { LogItemExtraInput, LogItemMessage } from '@aws-lambda-powertools/logger/types';
import { loggerOptions } from '../core/logger.js';

type Say = (line: string) => void;
type Fields = Record<string, unknown>;

const text = (value: unknown) => (typeof value === 'string' && value ? value : null);

/** `alert decision` (core/intake): one line per alert. */
export function decisionLine(f: Fields): string {
  const reason = text(f.reason) && f.reason !== f.decision ? ` (${f.reason})` : '';
  const execution = text(f.executionName) ? ` → ${f.executionName}` : '';
  const detail = text(f.detail) ? `: ${f.detail}` : '';
  return `alert from ${text(f.source) ?? '?'}: ${text(f.host) ?? '(no host)'} ${f.decision}${reason}${execution}${detail}`;
}

/** `webhook request rejected` (core/intake): a request refused before any alert was read. */
export function rejectionLine(f: Fields): string {
  return `webhook request refused: HTTP ${f.status} ${text(f.error) ?? ''}`.trimEnd();
}

/** `recovery report` (the log notifier): what was recovered, and each instance that was not. */
export function reportLines(f: Fields): string[] {
  const counts = (f.counts ?? {}) as {
    selected?: number;
    recovered?: number;
    failed?: number;
    skipped?: number;
  };
  const fence = f.fence as { controller?: string; verified?: boolean; detail?: string } | null | undefined;
  const power = fence
    ? `${fence.controller ?? 'fence'}: ${fence.verified ? 'power verified off' : `power NOT verified off (${fence.detail ?? ''})`}`
    : 'not fenced';
  const failed = Array.isArray(f.failed) ? (f.failed as { id?: string; reason?: string | null }[]) : [];
  return [
    `report (log notifier): ${f.kind} ${f.host} (incident ${f.incident}): ${counts.recovered ?? 0} of ${counts.selected ?? 0} recovered, ${counts.failed ?? 0} failed, ${counts.skipped ?? 0} skipped; ${power}`,
    ...(text(f.cause) ? [`  cause: ${f.cause}`] : []),
    ...failed.map((i) => `  ✗ ${i.id}: ${i.reason ?? 'failed'}`),
  ];
}

const ECHOED: Record<string, (fields: Fields) => string[]> = {
  'alert decision': (f) => [decisionLine(f)],
  'webhook request rejected': (f) => [rejectionLine(f)],
  'recovery report': reportLines,
};

/** A Logger that also says the messages above on the console (Powertools supports subclassing). */
class ConsoleEchoLogger extends Logger {
  constructor(private readonly say: Say) {
    super(loggerOptions());
  }

  override info(input: LogItemMessage, ...extra: LogItemExtraInput): void {
    const message = typeof input === 'string' ? input : input.message;
    const lines = typeof message === 'string' ? ECHOED[message] : undefined;
    if (lines) {
      const fields = {
        ...(typeof input === 'object' ? input : {}),
        ...(typeof extra[0] === 'object' ? extra[0] : {}),
      };
      for (const line of lines(fields as Fields)) this.say(line);
    }
    super.info(input, ...extra);
  }
}

export const consoleEchoLogger = (say: Say): Logger => new ConsoleEchoLogger(say);
