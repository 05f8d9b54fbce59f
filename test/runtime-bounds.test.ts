/**
 * The 2^53 frame through real node processes and real sockets: a `vote_request` (and a
 * heartbeat and a pre-vote request) with term 2^53, -1 or 1.5 is refused with a logged reason,
 * nothing of it reaches a trace or a state file, and the cluster still elects a leader, and
 * elects a new one in a higher term when that leader dies. At 3 and 5 nodes. Needs
 * `npx tsc -p .` first.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isCounter } from '../src/bounds.js';
import { LocalCluster } from '../src/runtime/local-cluster.js';
import { readTrace, type NodeRecord } from '../src/runtime/trace-log.js';
import type { StatusFrame } from '../src/runtime/wire.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let cluster: LocalCluster | null = null;
let dir = '';

afterEach(async () => {
  await cluster?.stop();
  cluster = null;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function until(c: LocalCluster, what: string, ok: (s: StatusFrame[]) => boolean, timeoutMs = 8000): Promise<StatusFrame[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await Promise.all(c.ids.filter((id) => c.isUp(id)).map((id) => c.client(id).status()));
    if (ok(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`);
    await sleep(25);
  }
}

const agreed = (s: StatusFrame[]) => s.filter((x) => x.state === 'leader').length === 1 && new Set(s.map((x) => `${x.leader}/${x.round}`)).size === 1 && s[0].leader !== null;

/** Sends raw lines to a node as if from peer `as`, and closes after the node has read them. */
function sendAsPeer(port: number, cluster: string, as: number, lines: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
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

/** Every number in a value (deep). */
const numbersIn = (v: unknown): number[] =>
  typeof v === 'number' ? [v] : v && typeof v === 'object' ? Object.values(v).flatMap(numbersIn) : [];

describe('a term of 2^53 on the wire', () => {
  it.each([3, 5])('is refused at every node of %i, changes nothing durable, and the cluster still elects', async (nodes) => {
    dir = mkdtempSync(join(tmpdir(), 'coordkit-bounds-'));
    cluster = await LocalCluster.start({ primitive: 'election', nodes, dir });
    const bad = [2 ** 53, -1, 1.5];
    // Each node hears them from a peer the forger claims to be (node 2, or node 3 at node 2).
    const forger = (to: number) => (to === 2 ? 3 : 2);
    const frames = (to: number) =>
      bad.flatMap((term) =>
        [
          { type: 'vote_request', term, version: 0 },
          { type: 'pre_vote_request', term, version: 0 },
          { type: 'leader_announce', term, version: 0 },
        ].map((msg) => JSON.stringify({ type: 'peer', from: forger(to), to, msg })),
      );
    // One connection per frame: a connection is closed after a few refused frames.
    await Promise.all(cluster.ids.flatMap((id) => frames(id).map((f) => sendAsPeer(cluster!.addresses.get(id)!.port, cluster!.cluster, forger(id), [f]))));

    for (const id of cluster.ids) {
      const log = readFileSync(join(cluster.nodeDir(id), 'node.log'), 'utf8');
      expect(log.match(/refused frame from peer \d: bad (vote_request|pre_vote_request|leader_announce) message: \/term must be/g)?.length, `node ${id}`).toBe(frames(id).length);
      expect(log).toMatch(/bad vote_request message: \/term must be <= 281474976710655/);
      expect(log).toMatch(/bad vote_request message: \/term must be >= 0/);
      expect(log).toMatch(/bad vote_request message: \/term must be integer/);
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
      const durable = JSON.parse(readFileSync(join(cluster.nodeDir(id), 'state.json'), 'utf8')).durable;
      expect(durable.currentTerm, `node ${id}`).toBeLessThan(100);
      expect(isCounter(durable.currentTerm)).toBe(true);
    }
  });
});
