import { defineConfig } from 'vitest/config';

// `npm run test:huge`: tests too slow or disk-hungry for `npm test` (test/huge/).
export default defineConfig({
  test: {
    include: ['test/huge/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 1_800_000,
    env: { NO_COLOR: '1' },
  },
});
