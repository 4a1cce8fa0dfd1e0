import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The lab and the fault campaign have their own configs (npm run test:lab, test:faults).
    exclude: ['test/lab/**', 'test/faults/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Packaged Lambda bundles (test/deploy.test.ts) are imported by Node as they are.
    server: { deps: { external: [/freezer-dr-bundles-/] } },
  },
});
