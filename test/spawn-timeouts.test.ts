/**
 * Tests never hang: every synchronous child process a test starts (spawnSync, execSync,
 * execFileSync) carries a `timeout`, so a stuck command fails its test instead of stalling the
 * suite. Read from the test sources, call by call.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SYNC_CALL = /\b(spawnSync|execSync|execFileSync)\s*\(/g;

/** The text of each synchronous child-process call in `source`, up to its closing parenthesis. */
export function syncCalls(source: string): string[] {
  const calls: string[] = [];
  for (const m of source.matchAll(SYNC_CALL)) {
    let depth = 0;
    let end = m.index! + m[0].length - 1;
    for (; end < source.length; end++) {
      if (source[end] === '(') depth++;
      else if (source[end] === ')' && --depth === 0) break;
    }
    calls.push(source.slice(m.index!, end + 1));
  }
  return calls;
}

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? testFiles(join(dir, e.name)) : /\.[cm]?[jt]s$/.test(e.name) ? [join(dir, e.name)] : []));
}

describe('child processes in tests', () => {
  it('finds a call without a timeout', () => {
    expect(syncCalls("spawnSync('node', ['x'], { encoding: 'utf8' }); execSync(`ls ${dir}`, { timeout: 5 })").map((c) => c.includes('timeout'))).toEqual([false, true]);
  });

  it('every spawnSync, execSync and execFileSync in test/ has a timeout', () => {
    const missing = testFiles('test')
      .filter((f) => !f.endsWith('spawn-timeouts.test.ts'))
      .flatMap((f) => syncCalls(readFileSync(f, 'utf8')).filter((c) => !/\btimeout\s*[:,}]/.test(c)).map((c) => `${f}: ${c.split('\n')[0]}`));
    expect(missing).toEqual([]);
  });
});
