import { defineConfig } from 'vitest/config';

/** `npm run test:cluster`: real redis-server + nginx in front of two replicas (test/cluster/). */
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
