/**
 * Batching under load does not bend the order a step's effects wait for: a node buffers the trace
 * records of a turn's steps and writes them with one call, and its log flushes many states at
 * once, yet every message it sends leaves only after (1) the trace record of the step that sent
 * it is written and (2) the state that step left is on disk (written and fdatasynced). Node 1
 * runs in this process as a follower of a fake leader that sends it bursts of heartbeats and state
 * syncs (many frames per read, many steps per turn); the disk it runs on records every trace
 * line, log record and fdatasync, and each ack is checked at the moment the host hands it to its
 * link to the leader. Two hosts with the bugs this guards against fail the same checks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { protocols } from '../machines/index.js';
import { nodeDisk, type DiskIo } from '../src/runtime/disk-io.js';
import { NodeHost } from '../src/runtime/node-host.js';
import type { NodeRecord } from '../src/runtime/trace-log.js';
import { HEADER_BYTES } from '../src/runtime/wal-format.js';
import { applyContextDelta } from '../src/runtime/trace-context.js';
import { nodeOneOptions } from './runtime-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'coordkit-batching-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const election = protocols.find((p) => p.name === 'election')!;
const prevote = election.variants.find((v) => v.name === election.defaultVariant)!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The real disk, remembering the trace lines, the log records and which of them an fdatasync covered. */
function watchedDisk() {
  const paths = new Map<number, string>();
  const disk = {
    ...nodeDisk,
    tracedAcks: 0,
    traceWrites: 0,
    logged: [] as Durable[],
    synced: 0,
    openSync(path: string, flags: string): number {
      const fd = nodeDisk.openSync(path, flags);
      paths.set(fd, path);
      return fd;
    },
    async open(path: string, flags: string): Promise<number> {
      const fd = await nodeDisk.open(path, flags);
      paths.set(fd, path);
      return fd;
    },
    writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number {
      const n = nodeDisk.writeSync(fd, buffer, offset, length);
      const path = paths.get(fd) ?? '';
      const bytes = Buffer.from(buffer.subarray(offset, offset + n));
      if (path.endsWith('trace.ndjson')) {
        disk.traceWrites++;
        for (const line of bytes.toString('utf8').split('\n').filter(Boolean)) disk.tracedAcks += (JSON.parse(line) as NodeRecord).sends.filter((x) => x.msg.type === 'leader_ack' && !x.lost).length;
      } else if (/wal-\d+\.log$/.test(path)) {
        // A record holds the whole state or what changed since the record before it.
        const record = JSON.parse(bytes.subarray(HEADER_BYTES).toString('utf8'));
        disk.logged.push(record.durable ?? applyContextDelta(disk.logged.at(-1), record.delta));
      }
      return n;
    },
    async fdatasync(fd: number): Promise<void> {
      const covered = disk.logged.length;
      await nodeDisk.fdatasync(fd);
      disk.synced = Math.max(disk.synced, covered);
    },
  };
  return disk;
}

type WatchedDisk = ReturnType<typeof watchedDisk>;
type Durable = { currentTerm: number; data: { version: number } };

/**
 * Whether `state` or a later one is on disk: a flush writes only the newest state saved (a
 * record makes the whole context), and the term and version of an election node only grow.
 */
const covered = (synced: Durable[], state: Durable) =>
  synced.some((d) => d.currentTerm > state.currentTerm || (d.currentTerm === state.currentTerm && d.data.version >= state.data.version));

/** What was true of one ack at the moment the host handed it to its link. */
interface SendCheck {
  /** Its step's record, and every earlier one, is in the trace file. */
  traced: boolean;
  /** The state it reports (term, version) is on disk, or a later one. */
  onDisk: boolean;
}

/** Checks every leader_ack as it goes into node 1's link to node 2 (after `start`). */
function checkAcks(host: NodeHost, disk: WatchedDisk, checks: SendCheck[]): void {
  const link = (host as unknown as { links: Map<number, { send: (line: string, outcome: unknown) => void }> }).links.get(2)!;
  const send = link.send.bind(link);
  let acks = 0;
  link.send = (line, outcome) => {
    const { msg } = JSON.parse(line) as { msg: { type: string; term: number; version: number } };
    if (msg.type === 'leader_ack') {
      acks++;
      checks.push({ traced: disk.tracedAcks >= acks, onDisk: covered(disk.logged.slice(0, disk.synced), { currentTerm: msg.term, data: { version: msg.version } }) });
    }
    send(line, outcome);
  };
}

/** Writes the trace only at the end of the turn: a step's message may leave before its record is written. */
class TraceAtTurnEndHost extends NodeHost {
  protected override writeTrace(): boolean {
    return this.fault === null;
  }
}

/** Sends as soon as the machine decides, before tracing and persisting (the bug fail-stop guards against). */
class EagerHost extends NodeHost {
  protected override sendMessage(to: number, msg: { type: string }, record: NodeRecord): () => void {
    super.sendMessage(to, msg as never, record)();
    return () => {};
  }
}

/** A fake leader (node 2): listens for node 1's link, and dials node 1 to send it bursts. */
async function burstRun(name: string, Host: typeof NodeHost): Promise<{ checks: SendCheck[]; disk: WatchedDisk; events: number; flushes: number }> {
  const disk = watchedDisk();
  const checks: SendCheck[] = [];
  const sockets: Socket[] = [];
  const peers: Server[] = [];
  for (let i = 0; i < 2; i++) {
    const server = createServer((s) => {
      sockets.push(s);
      s.on('data', () => {});
      s.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    peers.push(server);
  }
  const peerPorts = peers.map((p) => (p.address() as { port: number }).port);
  const host = new Host(nodeOneOptions({ protocol: election, variant: prevote, cluster: 'batching', dataDir: join(root, name), peerPorts, disk }));
  await host.start();
  checkAcks(host, disk, checks);
  const leader = connect(host.port, '127.0.0.1');
  try {
    await new Promise<void>((r) => leader.once('connect', () => r()));
    const frame = (msg: object) => JSON.stringify({ type: 'peer', from: 2, to: 1, msg }) + '\n';
    leader.write(JSON.stringify({ type: 'hello', cluster: 'batching', version: 1, node: 2 }) + '\n');
    let version = 0;
    for (let burst = 0; burst < 20; burst++) {
      let chunk = '';
      for (let i = 0; i < 25; i++) {
        version++;
        chunk += frame({ type: 'leader_announce', term: 1, version }) + frame({ type: 'state_sync', term: 1, data: { version, value: `v${version}` } });
      }
      leader.write(chunk);
      await sleep(5);
    }
    const deadline = Date.now() + 10_000;
    while (checks.length < 500 && Date.now() < deadline) await sleep(10);
    await sleep(50);
    return { checks, disk, events: host.counts.events, flushes: host.storeCounts.flushes };
  } finally {
    leader.destroy();
    await host.stop();
    for (const s of sockets) s.destroy();
    for (const p of peers) p.close();
  }
}

describe('batched trace writes and group commit keep persist-before-send', () => {
  it('under bursts of 50 frames, every ack goes to its link after its step is traced and its state is on disk; the trace took fewer writes than steps, the log fewer flushes', async () => {
    const run = await burstRun('correct', NodeHost);
    expect(run.checks.length).toBeGreaterThanOrEqual(500);
    expect(run.checks.filter((c) => !c.traced)).toEqual([]);
    expect(run.checks.filter((c) => !c.onDisk)).toEqual([]);
    // The batching is real: many steps per trace write and per flush.
    expect(run.disk.traceWrites).toBeLessThan(run.events / 2);
    expect(run.flushes).toBeLessThan(500 / 2);
  }, 30_000);

  it('catches a host that writes its trace only at the end of the turn', async () => {
    const run = await burstRun('trace-at-turn-end', TraceAtTurnEndHost);
    expect(run.checks.filter((c) => !c.traced).length).toBeGreaterThan(0);
  }, 30_000);

  it('catches a host that sends before it traces and persists', async () => {
    const run = await burstRun('eager', EagerHost);
    expect(run.checks.filter((c) => !c.onDisk).length).toBeGreaterThan(0);
  }, 30_000);
});
