// The lab suite (npm run test:lab): real Keystone/Nova/BMCs from test/lab/up.sh. One
// shared cloud, so files run one after another and tests get minutes, not seconds.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/lab/**/*.lab.test.ts'],
    testTimeout: 900_000,
    hookTimeout: 900_000,
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
    sequence: { concurrent: false },
  },
});
