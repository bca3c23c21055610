import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // test/huge: too slow or disk-hungry for `npm test`; `npm run test:huge` runs them.
    exclude: [...configDefaults.exclude, 'test/huge/**'],
    // MPI jobs are spawned as child processes; the runner itself never initialises MPI.
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 120_000,
    env: { NO_COLOR: '1' },
    hookTimeout: 120_000,
  },
});
