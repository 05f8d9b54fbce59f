import { defineConfig } from 'vitest/config';
import HeavyFirst from './test/heavy-first.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The longest files first, so that with more workers (`--maxWorkers=2`) none is left alone at the end.
    sequence: { sequencer: HeavyFirst },
    // One headless Chromium shared by the browser tests, launched only when one asks.
    globalSetup: ['test/browser-broker.ts'],
  },
});
