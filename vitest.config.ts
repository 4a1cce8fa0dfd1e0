import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The lab and the fault campaign have their own configs (npm run test:lab, test:faults).
    exclude: ['test/lab/**', 'test/faults/**', 'node_modules/**'],
    // Safety nets, not expectations: the suite must pass on a busy 2-core machine (.ci/run
    // runs it a second time under stress-ng), where a test takes several times its quiet time.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Packaged Lambda bundles (test/e2e/deploy.test.ts) are imported by Node as they are.
    server: { deps: { external: [/freezer-dr-bundles-/] } },
  },
});
