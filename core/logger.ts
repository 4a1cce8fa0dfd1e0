// Structured JSON logs (Powertools). Secrets never reach a log call: drivers log hosts,
// ids and outcomes only, and errors are built without request bodies or headers.
import { Logger } from '@aws-lambda-powertools/logger';

export function createLogger(serviceName = 'freezer-dr'): Logger {
  return new Logger({
    serviceName,
    logLevel: (process.env.LOG_LEVEL ?? process.env.POWERTOOLS_LOG_LEVEL ?? 'INFO') as 'INFO',
  });
}
