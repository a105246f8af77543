import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // End-to-end tests start real servers and databases; two cores, so keep parallelism modest.
    maxWorkers: 2,
    pool: 'forks',
  },
});
