import { defineConfig } from 'vitest/config';

// `npm run test:huge`: the disk-hungry tests (test/huge/) alone; `npm test` runs them too.
export default defineConfig({
  test: {
    include: ['test/huge/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 1_800_000,
    env: { NO_COLOR: '1' },
  },
});
