import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Tests that measure throughput against the wall clock. They run after the rest of the suite,
 * one file at a time: beside another test file on a two-core machine their processes wait for
 * a core, and a rate measured then says more about the neighbour than about the service.
 */
const TIMED = ['test/e2e/instances.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // End-to-end tests start real servers and databases; two cores, so keep parallelism modest.
    maxWorkers: 2,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'suite',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...TIMED],
        },
      },
      {
        extends: true,
        test: {
          name: 'timed',
          include: TIMED,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
