// Structured JSON logs (Powertools). Secrets never reach a log call: drivers log hosts,
// ids and outcomes only, and errors are built without request bodies or headers.
import { Logger } from '@aws-lambda-powertools/logger';

/** The service name, and the level from LOG_LEVEL / POWERTOOLS_LOG_LEVEL (default INFO). */
export const loggerOptions = (serviceName = 'freezer-dr') => ({
  serviceName,
  logLevel: (process.env.LOG_LEVEL ?? process.env.POWERTOOLS_LOG_LEVEL ?? 'INFO') as 'INFO',
});

export function createLogger(serviceName = 'freezer-dr'): Logger {
  return new Logger(loggerOptions(serviceName));
}
