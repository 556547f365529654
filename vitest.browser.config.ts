import { defineConfig } from 'vitest/config';

// The browser tests (npm run test:browser): Debian's Chromium driven by playwright-core, WebGPU through its
// built-in SwiftShader. Slow (a CPU rasteriser compiling every kernel), so they have their own command.
export default defineConfig({
  test: {
    include: ['test-browser/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 300_000,
  },
});
