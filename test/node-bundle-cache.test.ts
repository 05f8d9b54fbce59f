/**
 * The node bundle's code cache (bin/node-bundle.cjs, loadBundle): a start without one writes it
 * before it says it listens, the next start hands it to V8 and V8 accepts it; a damaged, foreign
 * or refused cache file, or a folder that takes no writes, costs only the cache, never the start.
 * Each start here is a real `coordkit node` process run through nodeBundle, as bin/coordkit.js
 * runs it, with the cache file in a folder of the test's own. Needs `npx tsc -p .` first.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';

const BUNDLER = join(__dirname, '..', 'bin', 'node-bundle.cjs');
const root = mkdtempSync(join(tmpdir(), 'coordkit-code-cache-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Starts a node from the bundle with its code cache at `cacheFile`; resolves, once it listens, with the cache's state (then kills it). */
function start(cacheFile: string, data: string): Promise<string> {
  const script = `const n = require(${JSON.stringify(BUNDLER)}).nodeBundle([], process.env.CACHE_FILE);
process.stderr.write('code cache ' + (n ? n.codeCache.state : 'none: unbundled') + '\\n');
if (n) n.nodeMain(process.argv.slice(1));`;
  const args = ['--primitive', 'election', '--id', '1', '--listen', '127.0.0.1:0', '--peers', '2=127.0.0.1:1', '--data', data, '--insecure'];
  const child = spawn(process.execPath, ['-e', script, '--', ...args], { env: { ...process.env, CACHE_FILE: cacheFile }, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
  return new Promise((resolve, reject) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
    let text = '';
    child.stderr.on('data', (d: Buffer) => {
      text += d;
      if (/listening on/.test(text)) {
        clearTimeout(kill);
        // Killed at once, as a bench or a crash does: the cache must already be on disk.
        child.kill('SIGKILL');
        child.once('exit', () => resolve(/code cache (\S+)/.exec(text)?.[1] ?? `no state in: ${text}`));
      }
    });
    child.once('exit', () => {
      clearTimeout(kill);
      if (!/listening on/.test(text)) reject(new Error(`the node did not start: ${text.trim()}`));
    });
  });
}

let runs = 0;
const data = () => join(root, `data-${runs++}`);

/** A whole cache file for this bundle, Node and CPU (made by a start), and its three header lines. */
async function madeCache(): Promise<{ file: string; lines: string[]; payload: Buffer }> {
  const file = join(root, `made-${runs}.v8cache`);
  expect(await start(file, data())).toBe('absent');
  const raw = readFileSync(file);
  const lines = raw.toString('latin1').split('\n').slice(0, 3);
  return { file, lines, payload: raw.subarray(lines.join('\n').length + 1) };
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe.skipIf(!constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER)('the node bundle code cache', () => {
  it('is written by a start that had none, and accepted by V8 at the next start', async () => {
    const { file, lines, payload } = await madeCache();
    expect(lines[0]).toBe('coordkit node-bundle v8 code cache 1');
    expect(lines[1]).toMatch(new RegExp(`^[0-9a-f]{64} ${process.version} ${process.arch}$`));
    expect(lines[2]).toBe(sha256(payload));
    expect(payload.length).toBeGreaterThan(10_000);
    const written = statSync(file).mtimeMs;
    expect(await start(file, data())).toBe('accepted');
    expect(await start(file, data())).toBe('accepted');
    // An accepted cache is not written again.
    expect(statSync(file).mtimeMs).toBe(written);
  }, 60_000);

  it('a damaged file is ignored: the node starts, and writes a whole cache for the next start', async () => {
    const file = join(root, 'garbage.v8cache');
    writeFileSync(file, 'not a code cache at all\n\u0000\u0001 and some bytes');
    expect(await start(file, data())).toBe('damaged');
    expect(await start(file, data())).toBe('accepted');
  }, 60_000);

  it('a cache whose data was changed after it was written is not handed to V8', async () => {
    const { file, lines, payload } = await madeCache();
    const flipped = Buffer.from(payload);
    for (let i = 100; i < flipped.length; i += 997) flipped[i] ^= 0x5a;
    writeFileSync(file, Buffer.concat([Buffer.from(lines.join('\n') + '\n', 'latin1'), flipped]));
    expect(await start(file, data())).toBe('damaged');
    expect(await start(file, data())).toBe('accepted');
  }, 60_000);

  it('a cache made for another Node is foreign; data V8 refuses is refused; each node still starts', async () => {
    const { file, lines, payload } = await madeCache();
    const other = lines[1].replace(process.version, 'v0.0.1');
    writeFileSync(file, Buffer.concat([Buffer.from([lines[0], other, lines[2]].join('\n') + '\n', 'latin1'), payload]));
    expect(await start(file, data())).toBe('foreign');
    // Whole by our checksum and made for this bundle by our key, but not V8's data: V8 says no.
    const bogus = Buffer.alloc(payload.length, 7);
    writeFileSync(file, Buffer.concat([Buffer.from([lines[0], lines[1], sha256(bogus)].join('\n') + '\n', 'latin1'), bogus]));
    expect(await start(file, data())).toBe('rejected');
    expect(await start(file, data())).toBe('accepted');
  }, 90_000);

  it('a folder that takes no writes costs the cache, not the start', async () => {
    const notAFolder = join(root, 'plain-file');
    writeFileSync(notAFolder, '');
    const file = join(notAFolder, 'node-bundle.v8cache');
    expect(await start(file, data())).toBe('absent');
    expect(await start(file, data())).toBe('absent');
    expect(existsSync(file)).toBe(false);
  }, 60_000);
});
