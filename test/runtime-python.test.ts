/**
 * The Python example client (standard library only, written from schemas/README.md) against
 * real local clusters of every registered primitive it knows. Needs `npx tsc -p .` first.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { protocols } from '../machines/index.js';
import { LOCAL_CLIENT, LocalCluster, localCertNames } from '../src/runtime/local-cluster.js';
import { makeClusterCerts } from '../src/runtime/cluster-certs.js';

const CLIENT = join(__dirname, '..', 'examples', 'python', 'client.py');
const KNOWN = ['election', 'mutex', 'consensus', 'barrier'];
const root = mkdtempSync(join(tmpdir(), 'coordkit-py-'));
const clusters: LocalCluster[] = [];
afterAll(async () => {
  await Promise.all(clusters.map((c) => c.stop()));
  rmSync(root, { recursive: true, force: true });
});

describe('examples/python/client.py', () => {
  it('talks mutual TLS to running clusters of every registered primitive and reports the unregistered ones', async () => {
    const registered = KNOWN.filter((name) => protocols.some((p) => p.name === name));
    // One CA for all of them, so that one client certificate reaches every cluster.
    const tlsDir = join(root, 'tls');
    await makeClusterCerts(tlsDir, localCertNames(3));
    for (const name of registered) clusters.push(await LocalCluster.start({ primitive: name, nodes: 3, dir: join(root, name), cluster: 'py', tlsDir }));
    const addresses = clusters.flatMap((c) => c.ids.map((id) => `127.0.0.1:${c.addresses.get(id)!.port}`));
    const tlsArgs = ['--tls-dir', tlsDir, '--tls-name', LOCAL_CLIENT];
    const r = spawnSync('python3', [CLIENT, '--cluster', 'py', '--value', 'from-python', ...tlsArgs, ...addresses], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.status, r.stdout).toBe(0);
    const out = r.stdout;
    if (registered.includes('election')) expect(out).toMatch(/^election: node 1 \w+ term \d+ leader \d/m);
    if (registered.includes('mutex')) expect(out).toMatch(/^mutex: node \d granted the lock with fencing token \d+ \(timestamp \d+\), released it$/m);
    if (registered.includes('consensus')) expect(out).toMatch(/^consensus: node \d proposed "from-python", slot 1 decided "from-python"; proposed "from-python-2", slot 2 decided "from-python-2"$/m);
    if (registered.includes('barrier')) expect(out).toMatch(/^barrier: 3 node\(s\) arrived, released: /m);
    for (const name of KNOWN.filter((k) => !registered.includes(k))) expect(out).toMatch(new RegExp(`^${name}: skipped, no node given runs it \\(this build has no ${name}\\.schema\\.json`, 'm'));
    const hasJsonschema = spawnSync('python3', ['-c', 'import jsonschema'], { encoding: 'utf8', timeout: 10_000 }).status === 0;
    if (hasJsonschema) expect(Number(/validated (\d+) frames/.exec(out)?.[1])).toBeGreaterThan(10);
    else expect(out).toMatch(/frames not validated/);
  });

  it('cannot talk to a TLS cluster without a certificate; talks plain TCP only to an --insecure cluster', async () => {
    const secure = clusters[0].ids.map((id) => `127.0.0.1:${clusters[0].addresses.get(id)!.port}`);
    const plain = spawnSync('python3', [CLIENT, '--cluster', 'py', ...secure], { encoding: 'utf8', timeout: 30_000 });
    expect(plain.status).toBe(1);
    expect(plain.stderr).toMatch(/^client\.py: cannot talk to the cluster/);
    const insecure = await LocalCluster.start({ primitive: 'election', nodes: 3, dir: join(root, 'insecure'), cluster: 'py', insecure: true });
    clusters.push(insecure);
    const addresses = insecure.ids.map((id) => `127.0.0.1:${insecure.addresses.get(id)!.port}`);
    const r = spawnSync('python3', [CLIENT, '--cluster', 'py', ...addresses], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^election: node 1 \w+ term \d+ leader/m);
  });

  it('fails clearly when the cluster id is wrong', async () => {
    const c = clusters[0];
    const r = spawnSync('python3', [CLIENT, '--cluster', 'other', '--tls-dir', join(root, 'tls'), '--tls-name', LOCAL_CLIENT, `127.0.0.1:${c.addresses.get(1)!.port}`], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^client\.py: cannot talk to the cluster: .*(answered|closed)/);
  });
});
