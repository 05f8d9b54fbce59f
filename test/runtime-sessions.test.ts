/**
 * Client sessions own locks, through real mutex node processes and real sockets: another
 * session's release and acquire are refused with an error frame; a session that disconnects,
 * or stays connected but stops renewing, loses its lock after the lease it chose, released by
 * the host feeding the machine `client.release` (traced, and conformant on replay); the next
 * client then gets the lock with a larger fencing token. Needs `npx tsc -p .` first.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { protocols } from '../machines/index.js';
import { LEASE_MS } from '../machines/mutex/index.js';
import { makeClusterCerts } from '../src/runtime/cluster-certs.js';
import { LocalCluster, localCertNames } from '../src/runtime/local-cluster.js';
import { NodeClient } from '../src/runtime/node-client.js';
import { analyzeTraces } from '../src/runtime/run-cluster.js';
import { kitSchemaDir as schemasDir } from '../src/cli/protocol-source.js';
import { clientName, loadCredentials } from '../src/runtime/tls.js';
import { readTrace, type NodeRecord } from '../src/runtime/trace-log.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mutex = protocols.find((p) => p.name === 'mutex')!;
let cluster: LocalCluster | null = null;
let dir = '';
const sessions: NodeClient[] = [];

afterEach(async () => {
  for (const s of sessions.splice(0)) s.close();
  await cluster?.stop();
  cluster = null;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Every session of these tests is a client with a certificate of its own from the cluster's CA. */
const SESSION_NAMES = ['a', 'b', 'keeper', 'silent', 'holder', 'waiter', 'next', ...Array.from({ length: 12 }, (_, i) => `racer-${i}`)];

async function start(nodes: number): Promise<LocalCluster> {
  dir = mkdtempSync(join(tmpdir(), 'coordkit-sessions-'));
  const tlsDir = join(dir, 'tls');
  await makeClusterCerts(tlsDir, [...localCertNames(nodes), ...SESSION_NAMES.map(clientName)], { days: 1 });
  cluster = await LocalCluster.start({ primitive: 'mutex', nodes, dir, tlsDir });
  return cluster;
}

async function session(c: LocalCluster, id: number, name: string): Promise<NodeClient> {
  const s = await NodeClient.open(c.addresses.get(id)!, c.cluster, name, 2000, loadCredentials(c.tlsDir!, clientName(name)));
  sessions.push(s);
  return s;
}

async function waitFor<T>(what: string, get: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** The fencing token of the n-th grant (`enter` note) a session has seen. */
const grant = (s: NodeClient, nth = 0) => s.notes.filter((f) => f.note.type === 'enter')[nth]?.note.token as number | undefined;
const records = (c: LocalCluster, id: number) => readTrace(join(c.nodeDir(id), 'trace.ndjson')) as NodeRecord[];
const state = async (c: LocalCluster, id: number) => (await c.client(id).status()).state;

describe('the lease bounds', () => {
  it('are the ones the acquire schema states', () => {
    const acquire = JSON.parse(readFileSync(join(schemasDir(), 'mutex.schema.json'), 'utf8')).definitions.MutexAcquire.properties.leaseMs;
    expect([acquire.minimum, acquire.maximum]).toEqual([LEASE_MS.min, LEASE_MS.max]);
    expect(mutex.sessions?.leaseMs).toBe(LEASE_MS);
  });
});

describe('a lock belongs to the client session that acquired it', () => {
  it('refuses another session its release and acquire, and the owner releases', async () => {
    const c = await start(3);
    const a = await session(c, 1, 'a');
    const b = await session(c, 1, 'b');
    await a.request({ type: 'client.acquire' });
    const token = await waitFor('the grant', () => grant(a));

    expect(await b.call({ type: 'request', request: { type: 'client.release' } })).toMatchObject({ type: 'error', reason: 'this session holds no lock at this node' });
    expect(await b.call({ type: 'request', request: { type: 'client.acquire' } })).toMatchObject({ type: 'error', reason: 'busy: another session holds or awaits the lock at this node' });
    const bad = await b.call({ type: 'request', request: { type: 'client.acquire', leaseMs: 5 } });
    expect(bad).toMatchObject({ type: 'error' });
    expect(await state(c, 1)).toBe('critical');

    await a.request({ type: 'client.release' });
    expect(await state(c, 1)).toBe('idle');
    await b.request({ type: 'client.acquire' });
    expect(await waitFor('the second grant', () => grant(b, 1))).toBeGreaterThan(token);
    expect(await a.call({ type: 'request', request: { type: 'client.release' } })).toMatchObject({ type: 'error' });
    await b.request({ type: 'client.release' });
    // Nothing the sessions refused reached the machine: one acquire and one release each.
    expect(records(c, 1).filter((r) => r.kind === 'client').map((r) => r.event!.type)).toEqual(['client.acquire', 'client.release', 'client.acquire', 'client.release']);
  });

  it('lets exactly one of many sessions racing for one node own its lock', async () => {
    const c = await start(3);
    const racers = await Promise.all(Array.from({ length: 12 }, (_, i) => session(c, 2, `racer-${i}`)));
    const answers = await Promise.all(racers.map((r) => r.call({ type: 'request', request: { type: 'client.acquire' } })));
    expect(answers.filter((f) => f.type === 'reply')).toHaveLength(1);
    expect(answers.filter((f) => f.type === 'error')).toHaveLength(11);
    const winner = racers[answers.findIndex((f) => f.type === 'reply')];
    await waitFor('the grant', () => grant(winner));
    for (const r of racers.filter((x) => x !== winner)) expect(await r.call({ type: 'request', request: { type: 'client.release' } })).toMatchObject({ type: 'error' });
    await winner.request({ type: 'client.release' });
  });

  it.each([3, 5])('a session that disconnects loses its lock after its lease; the next gets a larger token (%i nodes)', async (nodes) => {
    const c = await start(nodes);
    // Long enough that a busy machine grants the lock and refuses b while it lasts.
    const leaseMs = 2000;
    const a = await session(c, 1, 'a');
    const b = await session(c, 1, 'b');
    await a.request({ type: 'client.acquire', leaseMs } as { type: string });
    const token = await waitFor('the grant', () => grant(a));
    a.close();
    expect(await b.call({ type: 'request', request: { type: 'client.acquire' } })).toMatchObject({ type: 'error' });
    await waitFor('the lease to end', () => (records(c, 1).some((r) => r.kind === 'client' && r.event!.type === 'client.release') ? true : undefined), leaseMs + 5000);
    const acquired = records(c, 1).find((r) => r.kind === 'client' && r.event!.type === 'client.acquire')!;
    const released = records(c, 1).find((r) => r.kind === 'client' && r.event!.type === 'client.release')!;
    expect(released.time - acquired.time).toBeGreaterThanOrEqual(leaseMs - 5);
    expect(released.time - acquired.time).toBeLessThan(leaseMs + 1500);
    expect(released.notes).toEqual([{ type: 'exit', ts: expect.any(Number), token }]);

    await b.request({ type: 'client.acquire' });
    // b has seen a's grant too (notes go to every client of the node): its own is the second.
    expect(await waitFor('the grant to b', () => grant(b, 1))).toBeGreaterThan(token);
    await b.request({ type: 'client.release' });

    // The release the host fed is an ordinary client request to the replay.
    await sleep(100);
    const files = c.ids.map((id) => join(c.nodeDir(id), 'trace.ndjson'));
    const variant = mutex.variants.find((v) => v.name === mutex.defaultVariant)!;
    const analysis = analyzeTraces(mutex, variant, nodes, files);
    expect(analysis.divergences).toEqual([]);
    expect(analysis.properties.violations).toEqual([]);
  });

  it('on a slow disk, the lock a lease gave back goes whole to the next session', async () => {
    // Every fdatasync of the nodes takes 150 ms: the release the lease fed is traced (and the
    // machine idle) well before its flush ends, and the next session acquires in between. Its
    // lock must stay its own when that flush ends, and be released by it.
    const hook = join(mkdtempSync(join(tmpdir(), 'coordkit-slow-disk-')), 'slow-fdatasync.mjs');
    writeFileSync(hook, "import fs from 'node:fs';\nimport { syncBuiltinESMExports } from 'node:module';\nconst real = fs.fdatasync;\nfs.fdatasync = (fd, done) => setTimeout(() => real(fd, done), 150);\nsyncBuiltinESMExports();\n");
    const options = process.env.NODE_OPTIONS;
    process.env.NODE_OPTIONS = `${options ?? ''} --import ${hook}`;
    let c: LocalCluster;
    try {
      c = await start(3);
    } finally {
      if (options === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = options;
      rmSync(dirname(hook), { recursive: true, force: true });
    }
    const a = await session(c, 1, 'a');
    await a.request({ type: 'client.acquire', leaseMs: 200 } as { type: string });
    const token = await waitFor('the grant', () => grant(a));
    a.close();
    const b = await session(c, 1, 'b');
    await waitFor('the lease to end', () => (records(c, 1).some((r) => r.kind === 'client' && r.event!.type === 'client.release') ? true : undefined), 5000);
    await b.request({ type: 'client.acquire' });
    expect(await waitFor('the grant to b', () => grant(b))).toBeGreaterThan(token);
    await b.request({ type: 'client.release' });
    expect(await state(c, 1)).toBe('idle');
  });

  it('a connected session that stops renewing loses its lock; one that renews keeps it', async () => {
    const c = await start(3);
    const leaseMs = 300;
    // The keeper renews every 200 ms for longer than its lease; the lease leaves a busy machine
    // 1.8 s to answer each renewal.
    const keeper = await session(c, 1, 'keeper');
    await keeper.request({ type: 'client.acquire', leaseMs: 2000 } as { type: string });
    await waitFor('the grant', () => grant(keeper), 20_000);
    const renewing = Date.now();
    while (Date.now() - renewing < 2500) {
      await sleep(200);
      await keeper.status();
    }
    expect(await state(c, 1)).toBe('critical');

    const silent = await session(c, 2, 'silent');
    await silent.request({ type: 'client.acquire', leaseMs } as { type: string });
    await keeper.request({ type: 'client.release' });
    await waitFor('the grant', () => grant(silent), 20_000);
    await waitFor('the lease to end', () => (records(c, 2).some((r) => r.kind === 'client' && r.event!.type === 'client.release') ? true : undefined), 20_000);
    expect(await state(c, 2)).toBe('idle');
    expect(await silent.call({ type: 'request', request: { type: 'client.release' } })).toMatchObject({ type: 'error', reason: 'this session holds no lock at this node' });
  });

  it('a session whose lease ends before the grant has its lock released the moment it is granted', async () => {
    const c = await start(3);
    const holder = await session(c, 1, 'holder');
    await holder.request({ type: 'client.acquire' });
    await waitFor('the grant', () => grant(holder));
    const waiter = await session(c, 2, 'waiter');
    await waiter.request({ type: 'client.acquire', leaseMs: 100 } as { type: string });
    waiter.close();
    await sleep(300);
    expect(await state(c, 2)).toBe('waiting');
    await holder.request({ type: 'client.release' });
    await waitFor('node 2 to be granted and release', () => {
      const r = records(c, 2).filter((x) => x.kind === 'client').map((x) => x.event!.type);
      return r.length === 2 ? r : undefined;
    });
    expect(await state(c, 2)).toBe('idle');
    const next = await session(c, 2, 'next');
    await next.request({ type: 'client.acquire' });
    await waitFor('the next grant', () => grant(next));
  });
});
