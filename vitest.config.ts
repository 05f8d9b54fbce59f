import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One headless Chromium shared by the browser tests, launched only when one asks.
    globalSetup: ['test/browser-broker.ts'],
  },
});
