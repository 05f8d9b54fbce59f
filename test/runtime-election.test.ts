/**
 * Election on real node processes over loopback TCP: a leader is elected; after kill -9 of the
 * leader a new one is elected in a higher term and the restarted node rejoins as a follower;
 * a minority partition stays leaderless and converges after the heal; forged frames with a term
 * of 2^53, -1 or 1.5 are refused at every node, change nothing durable, and the cluster still
 * elects (at 3 and 5 nodes). Needs `npx tsc -p .`
 * first (`npm test` does it): the nodes run bin/coordkit.js.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isCounter } from '../src/bounds.js';
import { LocalCluster } from '../src/runtime/local-cluster.js';
import { loadCredentials, nodeName } from '../src/runtime/tls.js';
import { readTrace, type NodeRecord } from '../src/runtime/trace-log.js';
import type { StatusFrame } from '../src/runtime/wire.js';
import { readStoredState } from '../src/runtime/durable-store.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let cluster: LocalCluster | null = null;
let dir = '';

afterEach(async () => {
  await cluster?.stop();
  cluster = null;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function statuses(c: LocalCluster): Promise<StatusFrame[]> {
  return Promise.all(c.ids.filter((id) => c.isUp(id)).map((id) => c.client(id).status()));
}

/** Polls until `ok` holds for the up nodes' statuses; returns them. */
async function until(c: LocalCluster, what: string, ok: (s: StatusFrame[]) => boolean, timeoutMs = 8000): Promise<StatusFrame[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await statuses(c);
    if (ok(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`);
    await sleep(25);
  }
}

/** Every number in a value (deep). */
const numbersIn = (v: unknown): number[] =>
  typeof v === 'number' ? [v] : v && typeof v === 'object' ? Object.values(v).flatMap(numbersIn) : [];

const agreed = (s: StatusFrame[]) => s.filter((x) => x.state === 'leader').length === 1 && new Set(s.map((x) => `${x.leader}/${x.round}`)).size === 1 && s[0].leader !== null;

describe('election over TCP', () => {
  it('elects a leader, survives kill -9 of the leader, and the restarted node rejoins as follower', async () => {
    dir = mkdtempSync(join(tmpdir(), 'coordkit-rt-'));
    cluster = await LocalCluster.start({ primitive: 'election', nodes: 3, dir });
    const first = await until(cluster, 'a leader all agree on', agreed);
    const leader = first[0].leader!;
    const term = first[0].round!;
    expect(first.find((s) => s.node === leader)!.state).toBe('leader');

    await cluster.kill(leader);
    const second = await until(cluster, 'a new leader', (s) => agreed(s) && s[0].leader !== leader);
    expect(second[0].round!).toBeGreaterThan(term);

    await cluster.restart(leader);
    const third = await until(cluster, 'the restarted node to follow', (s) => s.length === 3 && agreed(s));
    const back = third.find((s) => s.node === leader)!;
    expect(back.state).toBe('follower');
    expect(back.leader).toBe(second[0].leader);
    expect(back.round).toBe(second[0].round);

    // It resumed from its state file: the restart record carries the term it had reached.
    const inits = readTrace(join(cluster.nodeDir(leader), 'trace.ndjson')).filter((r): r is NodeRecord => r.kind === 'init');
    expect(inits).toHaveLength(2);
    expect(inits[0].restored).toBeNull();
    expect((inits[1].restored as { currentTerm: number }).currentTerm).toBeGreaterThanOrEqual(term);
  });

  it('keeps a minority partition leaderless and converges after the heal', async () => {
    dir = mkdtempSync(join(tmpdir(), 'coordkit-rt-'));
    cluster = await LocalCluster.start({ primitive: 'election', nodes: 5, dir });
    const before = await until(cluster, 'a leader all agree on', agreed);
    const leader = before[0].leader!;
    const others = cluster.ids.filter((id) => id !== leader);
    const majority = [leader, ...others.slice(0, 2)];
    const minority = others.slice(2);
    await cluster.partition([majority, minority]);

    // Without heartbeats the minority's election timers fire; PreVote fails there, so nobody
    // in it leads and its term does not move.
    await until(cluster, 'the minority to lose its leader', (s) => s.filter((x) => minority.includes(x.node)).every((x) => x.leader === null));
    for (let i = 0; i < 10; i++) {
      const s = await statuses(cluster);
      for (const x of s.filter((y) => minority.includes(y.node))) {
        expect(x.state).not.toBe('leader');
        expect(x.round).toBe(before[0].round);
      }
      expect(s.filter((x) => majority.includes(x.node)).every((x) => x.leader === leader)).toBe(true);
      await sleep(40);
    }

    await cluster.heal();
    const after = await until(cluster, 'everyone to agree again', (s) => agreed(s) && s.length === 5);
    expect(after[0].leader).toBe(leader);
    expect(after[0].round).toBe(before[0].round);
  });
});

/**
 * Sends raw lines to a node from peer `as`, with that peer's own certificate (a peer gone wrong,
 * not an outsider: outsiders are refused before any frame is read), and closes after the node
 * has read them.
 */
async function retry(send: () => Promise<void>, attempts = 5): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      return await send();
    } catch (e) {
      if (i >= attempts) throw e;
    }
  }
}

function sendAsPeer(c: LocalCluster, to: number, as: number, lines: string[]): Promise<void> {
  const { port } = c.addresses.get(to)!;
  const cluster = c.cluster;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ...loadCredentials(c.tlsDir!, nodeName(as)), checkServerIdentity: () => undefined }, () => {
      socket.write(JSON.stringify({ type: 'hello', cluster, version: 1, node: as }) + '\n');
      for (const line of lines) socket.write(line + '\n');
      setTimeout(() => {
        socket.destroy();
        resolve();
      }, 200);
    });
    socket.on('error', reject);
  });
}

describe('a term of 2^53 on the wire', () => {
  it.each([3, 5])('is refused at every node of %i, changes nothing durable, and the cluster still elects', async (nodes) => {
    dir = mkdtempSync(join(tmpdir(), 'coordkit-bounds-'));
    cluster = await LocalCluster.start({ primitive: 'election', nodes, dir });
    const bad = [2 ** 53, -1, 1.5];
    // Each node hears them from a peer the forger claims to be (node 2, or node 3 at node 2).
    const forger = (to: number) => (to === 2 ? 3 : 2);
    const why = new Map([[2 ** 53, '<= 281474976710655'], [-1, '>= 0'], [1.5, 'integer']]);
    const frames = (to: number) =>
      bad.flatMap((term) =>
        [
          { type: 'vote_request', term, version: 0 },
          { type: 'pre_vote_request', term, version: 0 },
          { type: 'leader_announce', term, version: 0 },
        ].map((msg) => ({ line: JSON.stringify({ type: 'peer', from: forger(to), to, msg }), refusal: `bad ${msg.type} message: /term must be ${why.get(term)}` })),
      );
    const logOf = (id: number) => readFileSync(join(cluster!.nodeDir(id), 'node.log'), 'utf8');
    // One connection per frame (a connection is closed after a few refused frames), one after
    // another at each node (a peer's newer connection replaces its older one). The real peer
    // reconnecting may replace a forged connection before its frame is read, with or without an
    // error: a frame whose refusal the node has not logged is sent again, a few times at most.
    await Promise.all(
      cluster.ids.map(async (id) => {
        for (const f of frames(id)) {
          for (let attempt = 1; attempt <= 5 && (attempt === 1 || !logOf(id).includes(f.refusal)); attempt++) {
            await retry(() => sendAsPeer(cluster!, id, forger(id), [f.line]));
          }
        }
      }),
    );

    for (const id of cluster.ids) {
      const log = readFileSync(join(cluster.nodeDir(id), 'node.log'), 'utf8');
      // Every frame refused (one sent again after a reset may be refused twice).
      for (const type of ['vote_request', 'pre_vote_request', 'leader_announce']) {
        for (const why of ['<= 281474976710655', '>= 0', 'integer']) expect(log, `node ${id}: ${type} ${why}`).toContain(`bad ${type} message: /term must be ${why}`);
      }
    }

    const first = await until(cluster, 'a leader all agree on', agreed);
    const leader = first[0].leader!;
    expect(first[0].round!).toBeLessThan(100);
    await cluster.kill(leader);
    const second = await until(cluster, 'a new leader', (s) => agreed(s) && s[0].leader !== leader);
    expect(second[0].round!).toBeGreaterThan(first[0].round!);

    for (const id of cluster.ids) {
      const records = readTrace(join(cluster.nodeDir(id), 'trace.ndjson')) as NodeRecord[];
      expect(records.length).toBeGreaterThan(1);
      for (const r of records) expect(numbersIn(r.event).concat(numbersIn(r.context)).every((v) => isCounter(v)), JSON.stringify(r.event)).toBe(true);
      const durable = readStoredState(cluster.nodeDir(id))!.durable as { currentTerm: number };
      expect(durable.currentTerm, `node ${id}`).toBeLessThan(100);
      expect(isCounter(durable.currentTerm)).toBe(true);
    }
  });
});
