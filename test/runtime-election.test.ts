/**
 * Election on real node processes over loopback TCP: a leader is elected; after kill -9 of the
 * leader a new one is elected in a higher term and the restarted node rejoins as a follower;
 * a minority partition stays leaderless and converges after the heal. Needs `npx tsc -p .`
 * first (`npm test` does it): the nodes run bin/coordkit.js.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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
