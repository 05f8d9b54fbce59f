/**
 * Trace stamps compare across processes. The anchoring of the monotonic clock to the wall clock
 * is checked on crafted clocks, and a real node process whose `performance.timeOrigin` runs ahead
 * (what a deschedule during Node's start-up does on a loaded machine, here by an hour) still
 * stamps its first record between two readings taken in this process: with stamps from its own
 * origin, its sends would merge after their receipts and the channel check would call them
 * invented. Needs `npx tsc -p .` first.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePorts } from '../src/runtime/local-cluster.js';
import { epochOffset, traceNow } from '../src/runtime/trace-clock.js';
import { readTrace } from '../src/runtime/trace-log.js';

const BIN = join(__dirname, '..', 'bin', 'coordkit.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dir = mkdtempSync(join(tmpdir(), 'coordkit-clock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A wall clock with ms ticks `offset` ahead of a monotonic clock that advances `step` ms a read, and jumps `stallMs` at read `stallAt`. */
function clocks(offset: number, step: number, stallAt = -1, stallMs = 0) {
  let t = 5000.3;
  let reads = 0;
  return {
    mono: () => {
      t += step;
      if (++reads === stallAt) t += stallMs;
      return t;
    },
    wall: () => Math.floor(t + offset),
  };
}

describe('trace clock', () => {
  it('anchors the monotonic clock at a tick of the wall clock, measuring again when a stall widens the bracket', () => {
    const offset = 1_796_187_018_096.423;
    const calm = clocks(offset, 0.001);
    expect(Math.abs(epochOffset(calm.wall, calm.mono) - offset)).toBeLessThan(0.01);
    const stalled = clocks(offset, 0.001, 3, 7.5);
    expect(Math.abs(epochOffset(stalled.wall, stalled.mono) - offset)).toBeLessThan(0.01);
    // no bracket is tight within the budget: the narrowest one seen still bounds the error
    const slow = clocks(offset, 0.04);
    expect(Math.abs(epochOffset(slow.wall, slow.mono, 5) - offset)).toBeLessThan(0.05);
  });

  it('a node process whose performance.timeOrigin runs an hour ahead stamps its records on the shared clock', async () => {
    const [own, p2, p3] = await freePorts(3);
    const data = join(dir, 'data');
    const ahead = 'data:text/javascript,Object.defineProperty(performance,"timeOrigin",{value:performance.timeOrigin+3600000})';
    const before = traceNow();
    const child = spawn(process.execPath, ['--import', ahead, BIN, 'node', '--primitive', 'election', '--id', '1', '--listen', `127.0.0.1:${own}`, '--peers', `2=127.0.0.1:${p2},3=127.0.0.1:${p3}`, '--data', data, '--cluster', 'clock', '--insecure'], { stdio: 'ignore', timeout: 20_000 });
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    try {
      const deadline = Date.now() + 15_000;
      let init = readTrace(join(data, 'trace.ndjson')).find((r) => r.kind === 'init');
      while (!init && Date.now() < deadline && child.exitCode === null) {
        await sleep(25);
        init = readTrace(join(data, 'trace.ndjson')).find((r) => r.kind === 'init');
      }
      const after = traceNow();
      expect(init, 'the node traced its start').toBeDefined();
      expect(init!.time).toBeGreaterThanOrEqual(before);
      expect(init!.time).toBeLessThanOrEqual(after);
    } finally {
      clearTimeout(killer);
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
    }
  }, 30_000);
});
