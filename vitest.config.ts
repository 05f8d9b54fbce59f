import { defineConfig } from 'vitest/config';
import HeavyFirst from './test/heavy-first.js';

/**
 * Files that run real nodes over TCP, time what they do, or drive Chromium: they run one at a
 * time, after the others, so that no other test file competes with their timers for the CPU.
 * Every other file checks models or runs the command line, and two run at once (one per core).
 */
export const ONE_AT_A_TIME = [
  'behaviour-doc', 'certs-command', 'cli', 'client-queue', 'client-semantics', 'cluster-primitives', 'cluster-write-load', 'cluster',
  'conform', 'crash-soak', 'disk-faults', 'disk-full', 'early-send-host', 'ensure-system', 'explorer-browser', 'frame-fuzz', 'harness-mixed', 'harness',
  'package-contract', 'report-html', 'report-layout', 'runtime-election', 'runtime-forgery', 'runtime-frames', 'runtime-limits',
  'runtime-machine-stepper', 'runtime-mutex-lease', 'runtime-batching', 'runtime-notes', 'runtime-python', 'runtime-sessions', 'runtime-tls', 'runtime-validators', 'schemas', 'state-diagram',
  'trace-clock', 'trace-mermaid-parse', 'user-protocols', 'wal-host', 'wal-node-imports', 'wal', 'wire-bounds', 'wire-contract',
].map((name) => `test/${name}.test.ts`);

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The longest files first, so that neither worker is left alone with a long file at the end.
    sequence: { sequencer: HeavyFirst },
    // One headless Chromium shared by the browser tests, launched only when one asks.
    globalSetup: ['test/browser-broker.ts'],
    projects: [
      { extends: true, test: { name: 'models', include: ['test/**/*.test.ts'], exclude: ONE_AT_A_TIME, maxWorkers: 2, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'runtime', include: ONE_AT_A_TIME, maxWorkers: 1, sequence: { groupOrder: 1 } } },
    ],
  },
});
