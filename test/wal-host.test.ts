/**
 * The log under a real node host: a send waits for the flush covering the state it depends on
 * while timers and frames keep being handled (the flush is off the event loop), and a timer that
 * came due while the process was busy counts only after the frames that had already arrived.
 * Node 1 runs in this process; its peers are plain sockets this test holds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { protocols } from '../machines/index.js';
import type { DiskIo } from '../src/runtime/disk-io.js';
import { FLUSHES_IN_FLIGHT } from '../src/runtime/durable-store.js';
import { NodeHost } from '../src/runtime/node-host.js';
import { readTrace, type NodeRecord } from '../src/runtime/trace-log.js';
import { gatedDisk, listener, nodeOneOptions } from './runtime-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'coordkit-wal-host-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const election = protocols.find((p) => p.name === 'election')!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  for (const deadline = Date.now() + ms; !ok(); await sleep(5)) if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
}

async function node1(name: string, variant: string, disk?: DiskIo) {
  const peers = [await listener(), await listener()];
  const host = new NodeHost(nodeOneOptions({ protocol: election, variant: election.variants.find((v) => v.name === variant)!, cluster: 'wal', dataDir: join(root, name), peerPorts: peers.map((p) => p.port), disk }));
  await host.start();
  const records = () => readTrace(host.traceFile) as NodeRecord[];
  const stop = async () => {
    await host.stop();
    for (const p of peers) p.server.close();
  };
  return { host, peers, records, stop };
}

const received = (lines: string[], type: string) => lines.map((l) => JSON.parse(l)).filter((f) => f.type === 'peer' && f.msg.type === type);

describe('persist before send, with the flush off the event loop', () => {
  it('a campaign is traced at once, but its vote requests leave only after the flush; later timeouts ride the next flush, in order', async () => {
    const disk = gatedDisk();
    const n = await node1('gated', 'no-prevote', disk);
    try {
      disk.shut();
      const campaigns = () => n.records().filter((r) => r.kind === 'timer' && r.sends.some((s) => s.msg.type === 'vote_request'));
      // Nobody answers: the node campaigns again on each timeout, all while the first flush waits.
      await waitFor('three campaigns traced', () => campaigns().length >= 3);
      // The first campaign's flush and the second's sync at once (FLUSHES_IN_FLIGHT); the rest wait for one of them.
      expect(disk.waiting).toBe(FLUSHES_IN_FLIGHT);
      for (const p of n.peers) expect(received(p.lines, 'vote_request')).toEqual([]);
      const flushesBefore = n.host.storeCounts.flushes;
      disk.reopen();
      const terms = campaigns().map((r) => (r.context as { currentTerm: number }).currentTerm);
      await waitFor('every vote request delivered', () => n.peers.every((p) => received(p.lines, 'vote_request').length >= terms.length));
      for (const p of n.peers) {
        const got = received(p.lines, 'vote_request').map((f) => f.msg.term);
        expect(got.slice(0, terms.length)).toEqual(terms);
      }
      // The campaigns after the second rode one more flush together.
      expect(n.host.storeCounts.flushes - flushesBefore).toBeLessThanOrEqual(2);
    } finally {
      disk.reopen();
      await n.stop();
    }
  }, 20_000);

  it('with a healthy disk the same campaign reaches the peers (the check above is not vacuous)', async () => {
    const n = await node1('healthy', 'no-prevote');
    try {
      await waitFor('a vote request delivered', () => n.peers.every((p) => received(p.lines, 'vote_request').length >= 1));
    } finally {
      await n.stop();
    }
  });
});

describe('timers are judged against when frames arrived', () => {
  it('a heartbeat that arrived while the process was busy past the election timeout keeps the node a follower', async () => {
    const n = await node1('busy', 'no-prevote');
    const leader: Socket = connect(n.host.port, '127.0.0.1');
    try {
      await new Promise<void>((r) => leader.once('connect', () => r()));
      const frame = (msg: object) => JSON.stringify(msg) + '\n';
      leader.write(frame({ type: 'hello', cluster: 'wal', version: 1, node: 2 }));
      const announce = frame({ type: 'peer', from: 2, to: 1, msg: { type: 'leader_announce', term: 7, version: 0 } });
      leader.write(announce);
      await waitFor('node 1 follows node 2', () => n.records().some((r) => r.event?.type === 'leader_announce'));
      const start = n.records().length;
      for (let round = 0; round < 3; round++) {
        await sleep(20);
        leader.write(announce);
        // Busy for longer than the longest election timeout (150 ms, jitter up to 2x): the heartbeat is in the socket.
        const until = Date.now() + 400;
        while (Date.now() < until) {
          // spin
        }
      }
      await sleep(50);
      const after = n.records().slice(start);
      expect(after.filter((r) => r.event?.type === 'leader_announce').length).toBe(3);
      expect(after.filter((r) => r.kind === 'timer')).toEqual([]);
      expect((after.at(-1)!.context as { currentTerm: number }).currentTerm).toBe(7);
    } finally {
      leader.destroy();
      await n.stop();
    }
  }, 20_000);
});
