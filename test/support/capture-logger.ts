// A Logger stand-in that keeps every line in memory, so tests can read what was logged
// (and prove what was not, e.g. a BMC password). Any other Logger method is accepted and
// ignored; createChild returns the same capturing logger.
import type { Logger } from '@aws-lambda-powertools/logger';

export interface CapturedLogger {
  logger: Logger;
  lines: string[];
}

const LEVELS = new Set(['debug', 'info', 'warn', 'error', 'critical']);

export function captureLogger(): CapturedLogger {
  const lines: string[] = [];
  const logger: Logger = new Proxy({} as Logger, {
    get(_target, property) {
      if (typeof property !== 'string') return undefined;
      if (LEVELS.has(property)) {
        return (message: unknown, ...extra: unknown[]) => {
          lines.push(JSON.stringify({ level: property.toUpperCase(), message, extra }));
        };
      }
      if (property === 'createChild') return () => logger;
      if (property === 'then') return undefined;
      return () => undefined;
    },
  });
  return { logger, lines };
}
