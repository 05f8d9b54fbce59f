/**
 * Leader stability under write load, on real processes over mutual TLS: a 3-node election
 * cluster keeps its leader and term through 5 s of client writes pipelined at the leader from
 * 16 connections (`npm run bench:runtime` runs 60 s from 32). Every node process and client call
 * has a timeout (the launcher's start timeout, 10 s per write, the test's own).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeStability } from '../bench/runtime-coordkit.js';
import { makeClusterCerts } from '../src/runtime/cluster-certs.js';
import { localCertNames } from '../src/runtime/local-cluster.js';

const dir = mkdtempSync(join(tmpdir(), 'coordkit-write-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a leader under write load', () => {
  it('keeps its term through 5 s of pipelined writes from 16 clients', async () => {
    await makeClusterCerts(join(dir, 'tls'), localCertNames(3), { days: 1 });
    const r = await writeStability({ dir }, 5, 16);
    expect(r.writes.length).toBeGreaterThan(100);
    expect(r.refused).toBe('');
    expect(r.leaders).toHaveLength(1);
  }, 90_000);
});
