/**
 * `npm run bench:runtime`'s bad input (dist/bench/runtime.js, which `npm test` builds): one line on stderr, exit 2, before any cluster starts.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = mkdtempSync(join(tmpdir(), 'coordkit-bench-args-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const used = join(root, 'used');
mkdirSync(used);
writeFileSync(join(used, 'ca.pem'), 'x');

describe('bench:runtime refuses bad input in one line', () => {
  it.each([
    [['--only', 'nope'], /--only: no part 'nope'/],
    [['--samples', 'x'], /--samples/],
    [['--out', used], /--out .*used: not empty \(the bench writes its clusters and certificates there\): give a new or empty folder/],
  ])('%j', (args, message) => {
    const r = spawnSync(process.execPath, ['dist/bench/runtime.js', ...args], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });
});
