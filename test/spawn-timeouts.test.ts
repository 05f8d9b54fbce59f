/**
 * Tests never hang: every child process a test starts, synchronous (spawnSync, execSync,
 * execFileSync) or not (spawn, fork, exec, execFile), carries a `timeout`, so a stuck command
 * fails its test instead of stalling the suite. Read from the test sources, call by call.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SYNC_CALL = /\b(spawnSync|execSync|execFileSync)\s*\(/g;
/** `(?<![.\w])`: not a method such as a regular expression's `.exec(`. */
const ASYNC_CALL = /(?<![.\w])(spawn|fork|exec|execFile)\s*\(/g;

/** The text of each child-process call in `source` (synchronous unless `pattern` says otherwise), up to its closing parenthesis. */
export function childCalls(source: string, pattern = SYNC_CALL): string[] {
  const calls: string[] = [];
  for (const m of source.matchAll(pattern)) {
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
    expect(childCalls("spawnSync('node', ['x'], { encoding: 'utf8' }); execSync(`ls ${dir}`, { timeout: 5 })").map((c) => c.includes('timeout'))).toEqual([false, true]);
  });

  it('finds an asynchronous call without a timeout, and no regular expression', () => {
    const found = childCalls("spawn('node', ['x']); fork(m, { timeout: 5 }); /a/.exec(s); child.spawn(x)", ASYNC_CALL);
    expect(found.map((c) => c.includes('timeout'))).toEqual([false, true]);
  });

  it.each([
    ['spawnSync, execSync and execFileSync', SYNC_CALL],
    ['spawn, fork, exec and execFile', ASYNC_CALL],
  ])('every %s in test/ has a timeout', (_, pattern) => {
    const missing = testFiles('test')
      .filter((f) => !f.endsWith('spawn-timeouts.test.ts'))
      .flatMap((f) => childCalls(readFileSync(f, 'utf8'), pattern).filter((c) => !/\btimeout\s*[:,}]/.test(c)).map((c) => `${f}: ${c.split('\n')[0]}`));
    expect(missing).toEqual([]);
  });
});
