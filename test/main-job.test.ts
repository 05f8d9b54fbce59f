/** `npm start`'s job on the built-ins: every correct variant passes and every buggy one is caught. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';

it('coordkit all: every row of every built-in primitive is ok, and the command exits 0', () => {
  const out = mkdtempSync(join(tmpdir(), 'coordkit-all-'));
  try {
    const r = spawnSync('node', ['bin/coordkit.js', 'all', '--out', out], { encoding: 'utf8', timeout: 300_000 });
    const unexpected = r.stdout.split('\n').filter((l) => /\bUNEXPECTED\s*$/.test(l));
    expect(unexpected).toEqual([]);
    expect(r.stdout).toMatch(/^consensus\s+restart-idle\s.*every proposer decides.*\bok\s*$/m);
    expect(r.status, r.stderr).toBe(0);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 320_000);
