import { defineConfig } from 'vitest/config';
import HeavyFirst from './test/heavy-first.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two test files at a time (CI has two cores), the longest first.
    maxWorkers: 2,
    sequence: { sequencer: HeavyFirst },
    // One headless Chromium shared by the browser tests, launched only when one asks.
    globalSetup: ['test/browser-broker.ts'],
  },
});
