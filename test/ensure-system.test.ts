import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const SCRIPT = resolve(import.meta.dirname, '..', 'scripts', 'ensure-system.mjs');
const bare = mkdtempSync(join(tmpdir(), 'coordkit-path-'));
symlinkSync(process.execPath, join(bare, 'node'));
afterAll(() => rmSync(bare, { recursive: true, force: true }));

const ensure = (PATH: string, CHROMIUM = process.env.CHROMIUM ?? '') => spawnSync(process.execPath, [SCRIPT], { env: { PATH, CHROMIUM }, encoding: 'utf8', timeout: 60_000 });

describe('npm pretest (scripts/ensure-system.mjs)', () => {
  it('says nothing when the tests have what they need', () => {
    const r = ensure(process.env.PATH ?? '');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
  });

  it('names what is missing and how to install it in one line when it cannot install it (no apt-get)', () => {
    const r = ensure(bare, join(bare, 'no-chromium-here'));
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('coordkit tests: missing chromium (the report tests; or set CHROMIUM=/path/to/it); install with: sudo apt-get install -y chromium\n');
  });
});
