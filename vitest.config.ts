import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The full resilience suite takes minutes: `npm run test:resilience`; a few of its points are in test/integration/resilience.
    exclude: ['test/resilience/**', '**/node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Tests that start Switchyard as a process of its own run dist/main.js, as shipped.
    globalSetup: ['./test/support/built-entry.ts'],
    reporters: ['default', './test/support/resilience/reporter.ts', './test/support/summary-reporter.ts'],
  },
});
