import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // One test file at a time: a file's real server, Chromium and media workers already fill a
    // 2-core machine, and timing-sensitive tests (degrade, admission, pages' console) flake when two
    // files contend for the cores.
    fileParallelism: false,
    reporters: ['default'],
  },
});
