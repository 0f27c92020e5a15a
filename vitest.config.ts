import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/cluster/**', 'node_modules/**'],
    testTimeout: 15_000,
    hookTimeout: 15_000,
    // Stdio tests spawn the built server; run files in parallel processes, tests in order.
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
  },
});
