import { defineConfig } from 'vitest/config';

/** `npm run test:resilience`: every fault at every point, with the table at the end. */
export default defineConfig({
  test: {
    include: ['test/resilience/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Tests that start Switchyard as a process of its own run dist/main.js, as shipped.
    globalSetup: ['./test/support/built-entry.ts'],
    // Points wait far more than they compute; three at a time keep two cores busy without starving the kill timing.
    maxConcurrency: 3,
    reporters: ['default', './test/support/resilience/reporter.ts', './test/support/summary-reporter.ts'],
  },
});
