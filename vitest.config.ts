import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The full resilience suite takes minutes: `npm run test:resilience`; a few of its points are in test/integration/resilience.
    exclude: ['test/resilience/**', '**/node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    pool: 'forks',
    reporters: ['default', './test/support/resilience/reporter.ts', './test/support/summary-reporter.ts'],
  },
});
