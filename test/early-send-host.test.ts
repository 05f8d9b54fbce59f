/**
 * Sends before the flush (Variant.beforeFlush) under a real node host: consensus node 1 leads,
 * its peers are sockets this test holds, and its disk's fdatasync can be held shut. The leader's
 * commit, which the verified variant lets leave while its own acceptance is written, reaches the
 * peers with the flush still waiting; the decision it takes on an ack (notes to the client, the
 * `decided` broadcast) waits for the flush. A variant that declares nothing holds the commit too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { protocols } from '../machines/index.js';
import type { Variant } from '../src/protocol.js';
import { NodeClient } from '../src/runtime/node-client.js';
import { NodeHost } from '../src/runtime/node-host.js';
import { initialTransition } from 'xstate';
import { checkChannels, replayNode } from '../src/runtime/conformance.js';
import { effectsOf, flattenValue } from '../src/machine-effects.js';
import { readTrace, type NodeRecord, type TraceRecord } from '../src/runtime/trace-log.js';
import { nodeDisk } from '../src/runtime/disk-io.js';
import { gatedDisk, listener, nodeOneOptions } from './runtime-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'coordkit-early-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const consensus = protocols.find((p) => p.name === 'consensus')!;
const paxos = consensus.variants.find((v) => v.name === 'paxos')!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const frame = (msg: object) => JSON.stringify(msg) + '\n';

async function waitFor(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  for (const deadline = Date.now() + ms; !ok(); await sleep(5)) if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
}

/** A socket of this test that says hello to node 1 as node 2 (plain TCP: the hello is all there is). */
async function asNodeTwo(address: { host: string; port: number }): Promise<Socket> {
  const two: Socket = connect(address);
  await new Promise<void>((r) => two.once('connect', () => r()));
  two.on('error', () => {});
  two.write(frame({ type: 'hello', cluster: 'early', version: 1, node: 2 }));
  return two;
}

/** Node 1 with a gated disk, a client, and node 2 speaking to it over a socket of this test. */
async function leader(name: string, variant: Variant) {
  const disk = gatedDisk();
  const peers = [await listener(), await listener()];
  const host = new NodeHost(nodeOneOptions({ protocol: consensus, variant, cluster: 'early', dataDir: join(root, name), peerPorts: peers.map((p) => p.port), disk }));
  await host.start();
  const address = { host: '127.0.0.1', port: host.port };
  const notes: string[] = [];
  const client = await NodeClient.open(address, 'early', 'test', 5000, undefined, { onNote: (f) => notes.push((f.note as { type: string }).type) });
  const two = await asNodeTwo(address);
  const fromTwo = (msg: object) => two.write(frame({ type: 'peer', from: 2, to: 1, msg }));
  const received = (type: string) => peers.map((p) => p.lines.map((l) => JSON.parse(l)).filter((f) => f.type === 'peer' && f.msg.type === type).length);
  const stop = async () => {
    disk.reopen();
    client.close();
    two.destroy();
    await host.stop();
    for (const p of peers) p.server.close();
  };
  const records = () => readTrace(host.traceFile) as NodeRecord[];
  return { disk, client, fromTwo, received, notes, records, stop };
}

/** Node 1's trace of the first test, up to its decision. */
let traced: NodeRecord[] = [];

/** The record a host writes when node 1 restarts from `restored` (what the machine does on init). */
function restartFrom(restored: object, seq: number, variant: Variant): NodeRecord {
  const [snap, actions] = initialTransition(variant.machine, { id: 1, n: 3, restored });
  const record: NodeRecord = { node: 1, seq, time: seq, kind: 'init', restored, after: flattenValue(snap.value), context: snap.context, sends: [], notes: [], timers: [], cancels: [] };
  for (const e of effectsOf(actions)) {
    if (e.kind === 'send') for (const to of e.to === 'others' ? [2, 3] : [e.to]) record.sends.push({ to, msg: e.msg as never });
    else if (e.kind === 'note') record.notes.push(e.note as never);
    else if (e.kind === 'timer') record.timers.push({ id: e.id, event: e.event, delayMs: e.delayMs, firesInMs: e.delayMs });
    else record.cancels.push(e.id);
  }
  return record;
}

describe('a send before its flush, under a real host', () => {
  it("the leader's commit leaves while its acceptance is being written; the decision waits for the flush", async () => {
    const n = await leader('declared', paxos);
    try {
      void n.client.request({ type: 'client.propose', value: 'v' }, 5000).catch(() => {});
      await waitFor('the proposes', () => n.received('propose').every((c) => c === 1));
      n.disk.shut();
      // Node 2's promise completes the majority: node 1 accepts its own commit and sends it.
      n.fromTwo({ type: 'promise', term: 1, slot: 1, accepted: [] });
      await waitFor('the commits, with the flush shut', () => n.received('commit').every((c) => c === 1));
      expect(n.disk.waiting).toBeGreaterThan(0);
      // Node 2's ack decides: the notes and the `decided` broadcast wait for the flush.
      n.fromTwo({ type: 'ack', term: 1, slot: 1 });
      await sleep(150);
      expect(n.received('decided')).toEqual([0, 0]);
      expect(n.notes).not.toContain('decision');
      n.disk.reopen();
      await waitFor('the decision, after the flush', () => n.received('decided').every((c) => c === 1) && n.notes.includes('decision'));
      traced = n.records();
      // The leader's next proposal runs phase 2 only: its commit, its notes and the answer to
      // the request all leave with the flush shut.
      n.disk.shut();
      const reply = await n.client.request({ type: 'client.propose', value: 'w' }, 5000);
      expect(reply).toMatchObject({ type: 'reply', state: 'committing' });
      await waitFor('the second commits', () => n.received('commit').every((c) => c === 2));
      expect(n.disk.waiting).toBeGreaterThan(0);
    } finally {
      await n.stop();
    }
  }, 20_000);

  it('conformance: a kill before that flush restarts the leader from the state before, and its commits still count as sent', () => {
    const commit = traced.findIndex((r) => r.sends.some((x) => x.msg.type === 'commit'));
    expect(commit).toBeGreaterThan(0);
    // Killed before the commit step's flush: the disk holds the state of the step before it.
    const kept = traced.slice(0, commit + 1);
    const restored = paxos.durable(kept[commit - 1].context);
    const records = [...kept, restartFrom(restored, commit + 1, paxos)];
    const replay = replayNode(consensus, paxos, 3, records);
    expect(replay.divergence).toBeNull();
    expect(replay.unpersisted).toEqual([{ node: 1, seq: kept[commit].seq, left: true }]);
    // Node 2 (this test's socket, traced here by hand: it sent the promise node 1 received)
    // received the commit: that is no divergence, since it left before the flush.
    const promise = kept.find((r) => r.event?.type === 'promise')!.event!;
    const { from: _from, ...promised } = promise;
    const receipt = { node: 2, seq: 0, time: 0, kind: 'peer', event: { ...kept[commit].sends.find((x) => x.to === 2)!.msg, from: 1 }, after: 'idle', context: {}, sends: [{ to: 1, msg: promised }], notes: [], timers: [], cancels: [] } as NodeRecord;
    const merged: TraceRecord[] = [...records, receipt];
    expect(checkChannels(merged, replay.unpersisted)).toBeNull();
    // A variant that declares nothing never sends before its flush: the same receipt is a divergence.
    const undeclared: Variant = { name: paxos.name, description: paxos.description, machine: paxos.machine, durable: paxos.durable };
    const strict = replayNode(consensus, undeclared, 3, records);
    expect(strict.unpersisted).toEqual([{ node: 1, seq: kept[commit].seq }]);
    expect(checkChannels(merged, strict.unpersisted)?.what).toMatch(/never sent it/);
  });

  it('without the declaration the same commit waits for the flush (the check above is not vacuous)', async () => {
    const undeclared: Variant = { name: paxos.name, description: paxos.description, machine: paxos.machine, durable: paxos.durable };
    const n = await leader('undeclared', undeclared);
    try {
      void n.client.request({ type: 'client.propose', value: 'v' }, 5000).catch(() => {});
      await waitFor('the proposes', () => n.received('propose').every((c) => c === 1));
      n.disk.shut();
      n.fromTwo({ type: 'promise', term: 1, slot: 1, accepted: [] });
      await waitFor('the flush to wait', () => n.disk.waiting > 0);
      await sleep(150);
      expect(n.received('commit')).toEqual([0, 0]);
      n.disk.reopen();
      await waitFor('the commits, after the flush', () => n.received('commit').every((c) => c === 1));
    } finally {
      await n.stop();
    }
  }, 20_000);
});

describe('a send before its flush, stressed', () => {
  it('with a slow disk and 8 rounds of 10 proposals at once, each peer receives exactly what the trace says was sent to it, in trace order', async () => {
    let calls = 0;
    const disk = { ...gatedDisk(), fdatasync: async (fd: number) => {
      // 0-3 ms more per sync, varying: flushes overlap the steps that follow them.
      await sleep(calls++ % 4);
      return nodeDisk.fdatasync(fd);
    } };
    const peers = [await listener(), await listener()];
    const host = new NodeHost(nodeOneOptions({ protocol: consensus, variant: paxos, cluster: 'early', dataDir: join(root, 'stress'), peerPorts: peers.map((p) => p.port), disk }));
    await host.start();
    const address = { host: '127.0.0.1', port: host.port };
    const client = await NodeClient.open(address, 'early', 'stress', 5000);
    // Node 2 answers every propose with a promise and every commit with an ack, as an acceptor with nothing accepted would.
    const two = await asNodeTwo(address);
    let answered = 0;
    const answer = setInterval(() => {
      const lines = peers[0].lines;
      for (; answered < lines.length; answered++) {
        const f = JSON.parse(lines[answered]);
        if (f.type !== 'peer') continue;
        if (f.msg.type === 'propose') two.write(frame({ type: 'peer', from: 2, to: 1, msg: { type: 'promise', term: f.msg.term, slot: f.msg.slot, accepted: [] } }));
        if (f.msg.type === 'commit') two.write(frame({ type: 'peer', from: 2, to: 1, msg: { type: 'ack', term: f.msg.term, slot: f.msg.slot } }));
      }
    }, 1);
    try {
      for (let round = 0; round < 8; round++) {
        await Promise.all(Array.from({ length: 10 }, (_, i) => client.request({ type: 'client.propose', value: `r${round}-${i}` }, 10_000)));
        await sleep(20);
      }
      const decided = () => readTrace(host.traceFile).filter((r) => (r as NodeRecord).notes?.some((x) => x.type === 'decided')).length;
      await waitFor('some decisions', () => decided() >= 4, 10_000);
      await sleep(100);
      const records = (readTrace(host.traceFile) as NodeRecord[]).filter((r) => r.node === 1).sort((a, b) => a.seq - b.seq);
      expect(replayNode(consensus, paxos, 3, records).divergence).toBeNull();
      // Early and held sends interleave across steps; per link, the order is the trace's.
      const early = records.filter((r) => r.sends.length && r.sends.every((x) => x.msg.type === 'commit')).length;
      expect(early).toBeGreaterThanOrEqual(3);
      for (const [i, p] of peers.entries()) {
        const to = i + 2;
        const traced = records.flatMap((r) => r.sends.filter((x) => x.to === to && !x.lost).map((x) => JSON.stringify(x.msg)));
        const got = p.lines.map((l) => JSON.parse(l)).filter((f) => f.type === 'peer').map((f) => JSON.stringify(f.msg));
        expect(got).toEqual(traced);
      }
    } finally {
      clearInterval(answer);
      client.close();
      two.destroy();
      await host.stop();
      for (const p of peers) p.server.close();
    }
  }, 60_000);
});
