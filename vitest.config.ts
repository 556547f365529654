import { defineConfig } from 'vitest/config';

// GPU tests share one software Vulkan device on a 2-core machine: run files one at a time, in one process,
// so that lavapipe gets both cores and Dawn is created once.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
