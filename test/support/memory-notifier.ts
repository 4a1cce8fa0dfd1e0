// The notifier double: keeps every report in memory, for tests and the benches to read.
import type { Notifier, RecoveryReport } from '../../core/ports.js';

export class MemoryNotifier implements Notifier {
  readonly reports: RecoveryReport[] = [];

  constructor(readonly name = 'memory') {}

  async notify(report: RecoveryReport): Promise<void> {
    this.reports.push(report);
  }
}
