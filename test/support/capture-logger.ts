// The one Logger stand-in: it keeps every line in memory (one JSON object per call, the
// message and its extra keys), so tests can read what was logged and prove what was not,
// e.g. a BMC password. `keep: false` drops lines (storms, fuzzing). Any other Logger method
// is accepted and ignored; createChild returns the same capturing logger.
import type { Logger } from '@aws-lambda-powertools/logger';

export interface CapturedLogger {
  logger: Logger;
  lines: string[];
}

const LEVELS = new Set(['debug', 'info', 'warn', 'error', 'critical']);

export function captureLogger(keep = true): CapturedLogger {
  const lines: string[] = [];
  const logger: Logger = new Proxy({} as Logger, {
    get(_target, property) {
      if (typeof property !== 'string') return undefined;
      if (LEVELS.has(property)) {
        return (message: unknown, ...extra: unknown[]) => {
          if (!keep) return;
          const keys = extra.filter((e): e is object => typeof e === 'object' && e !== null);
          lines.push(
            JSON.stringify({ level: property.toUpperCase(), message, ...Object.assign({}, ...keys) }),
          );
        };
      }
      if (property === 'createChild') return () => logger;
      if (property === 'then') return undefined;
      return () => undefined;
    },
  });
  return { logger, lines };
}

/** A logger that keeps nothing, for code that only needs somewhere to log. */
export const silentLogger: Logger = captureLogger(false).logger;
