import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // test/huge (the 47,000² canvas: 12 s, 2.2 GB in /tmp) runs here too; `npm run test:huge` runs it alone.
    // MPI jobs are spawned as child processes; the runner itself never initialises MPI.
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 120_000,
    env: { NO_COLOR: '1' },
    hookTimeout: 120_000,
  },
});
