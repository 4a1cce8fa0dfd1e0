// The simplest notifier: one structured log line per report (always safe to enable).
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Notifier, RecoveryReport } from '../../core/ports.js';

export class LogNotifier implements Notifier {
  readonly name = 'log';

  constructor(private readonly logger: Logger) {}

  async notify(report: RecoveryReport): Promise<void> {
    this.logger.info('recovery report', {
      kind: report.kind,
      host: report.host,
      incident: report.incident,
      cause: report.cause,
      counts: report.counts,
      fence: report.fence,
      failed: report.instances
        .filter((i) => i.outcome === 'failed' || i.outcome === 'not-migrated')
        .map((i) => ({ id: i.id, reason: i.reason })),
    });
  }
}
