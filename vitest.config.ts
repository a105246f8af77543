import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Tests that measure throughput or departure times against the wall clock. They run after the
 * rest of the suite, one file at a time: beside another test file on a two-core machine their
 * processes and threads wait for a core, and a time measured then says more about the
 * neighbour than about the service (the departure thread's 5 ms lateness budget failed once
 * beside the 5,000-POST burst test).
 */
const TIMED = ['test/e2e/instances.test.ts', 'test/mts/departures.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // End-to-end tests start real servers and databases; two cores, so keep parallelism modest.
    maxWorkers: 2,
    pool: 'forks',
    // The admin page's assets, built when missing or older than their sources.
    globalSetup: ['test/helpers/webBuild.ts'],
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
