// The fault campaign (npm run test:faults): test/faults/*.fault.test.ts, each case a real
// recovery with one injected fault. Files run side by side (each has its own clouds,
// BMCs and ports); the global setup prints the table and keeps it (see global-setup.ts).
// Run it as `npm run test:faults` (test/faults/run.sh), which takes --update-docs.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';
import { RESULTS_ENV } from './test/faults/support/results-dir.js';

process.env[RESULTS_ENV] ??= join(tmpdir(), `freezer-dr-faults-${process.pid}`);

export default defineConfig({
  test: {
    include: ['test/faults/**/*.fault.test.ts'],
    globalSetup: ['test/faults/global-setup.ts'],
    env: { [RESULTS_ENV]: process.env[RESULTS_ENV] as string, POWERTOOLS_LOG_LEVEL: 'SILENT' },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
