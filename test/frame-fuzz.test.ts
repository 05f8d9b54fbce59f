/**
 * Seeded fuzz over real sockets: at least 10,000 malformed frames (test/frame-fuzz.ts) to two
 * real mutex node processes, before a hello, after a client's hello and after a hello claiming to
 * be node 3 (killed first, so the claim is free). Every connection must be closed by the node
 * after exactly the frames the rules allow (the first before a hello, GARBAGE_LIMIT after), every
 * frame is counted as refused, no event reaches a machine (the traces do not grow), the state
 * files and the status answers are unchanged, and no node crashed or logged an internal error.
 * `FUZZ_SEED=S` replays a run; the seed is in every failure message. Needs `npx tsc -p .` first.
 */
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LOCAL_CLIENT, LocalCluster } from '../src/runtime/local-cluster.js';
import { GARBAGE_LIMIT } from '../src/runtime/node-host.js';
import { clientName, loadCredentials, nodeName } from '../src/runtime/tls.js';
import { readTrace } from '../src/runtime/trace-log.js';
import { FrameFuzzer, type Phase } from './frame-fuzz.js';
import { readStoredState } from '../src/runtime/durable-store.js';

const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const FRAMES = Number(process.env.FUZZ_FRAMES ?? 10_000);
const WORKERS = 6;
const root = mkdtempSync(join(tmpdir(), 'coordkit-fuzz-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A connection to a node as `name` (with the cluster's certificates when it has them); resolves when it closes. */
function open(cluster: LocalCluster, node: number, name: string): Promise<{ socket: Socket; closed: Promise<void> }> {
  const { host, port } = cluster.addresses.get(node)!;
  return new Promise((resolve, reject) => {
    const socket = cluster.tlsDir
      ? connectTls({ host, port, ...loadCredentials(cluster.tlsDir, name), checkServerIdentity: () => undefined })
      : connect({ host, port });
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('data', () => {});
    socket.once('error', reject);
    socket.once(cluster.tlsDir ? 'secureConnect' : 'connect', () => {
      socket.removeListener('error', reject);
      socket.on('error', () => {});
      resolve({ socket, closed });
    });
  });
}

/** Writes the lines as one byte stream cut at random places, so frames also arrive split across reads. */
async function sendSplit(socket: Socket, lines: string[], random: () => number): Promise<void> {
  const bytes = Buffer.from(lines.map((l) => l + '\n').join(''), 'latin1');
  let at = 0;
  while (at < bytes.length && !socket.destroyed) {
    const size = random() < 0.5 ? bytes.length - at : 1 + Math.floor(random() * Math.min(4096, bytes.length - at));
    // The node may close the connection (refused frames) while a write waits: then no drain comes.
    if (!socket.write(bytes.subarray(at, at + size))) await new Promise((r) => (socket.once('drain', r), socket.once('close', r)));
    at += size;
  }
}

describe(`seeded fuzz of malformed frames (FUZZ_SEED=${SEED})`, () => {
  it(`${FRAMES} malformed frames to two mutex nodes: zero crashes, zero state changes`, async () => {
    const why = (what: string) => `FUZZ_SEED=${SEED}: ${what}`;
    const cluster = await LocalCluster.start({ primitive: 'mutex', nodes: 3, dir: join(root, 'cluster') });
    try {
      await cluster.kill(3);
      const targets = [1, 2];
      const files = (id: number) => ({ trace: join(cluster.nodeDir(id), 'trace.ndjson'), log: join(cluster.nodeDir(id), 'node.log') });
      const snapshot = async (id: number) => {
        const { id: _request, ...status } = await cluster.client(id).status();
        return { records: readTrace(files(id).trace).length, state: JSON.stringify(readStoredState(cluster.nodeDir(id))), status };
      };
      // Node 3's absence must have reached both nodes' links before the baseline is taken.
      for (const deadline = Date.now() + 5000; ; ) {
        const statuses = await Promise.all(targets.map((id) => cluster.client(id).status()));
        if (statuses.every((s) => !s.connected.includes(3))) break;
        if (Date.now() > deadline) throw new Error('the nodes still report node 3 connected');
        await new Promise((r) => setTimeout(r, 20));
      }
      const before = await Promise.all(targets.map(snapshot));

      const sent = new Map(targets.map((id) => [id, 0]));
      let connections = 0;
      let next = 0;
      // A peer's newer connection replaces its older one, so connections claiming node 3 take
      // turns at each node; otherwise one would cut another off before its frames were read.
      const peerTurn = new Map(targets.map((id) => [id, Promise.resolve()]));
      const worker = async (w: number) => {
        for (;;) {
          const index = next++;
          if ([...sent.values()].reduce((a, b) => a + b, 0) >= FRAMES) return;
          const f = new FrameFuzzer(SEED + index, { cluster: cluster.cluster, node: targets[index % 2], peer: 3, n: 3 });
          const random = () => f.random();
          const node = targets[index % 2];
          const phase: Phase = (['before hello', 'client', 'client', 'peer', 'peer', 'peer'] as const)[Math.floor(random() * 6)];
          const lines: string[] = [];
          let hello: string | null = null;
          if (phase === 'before hello') {
            if (random() < 0.05) lines.push(f.oversized());
            lines.push(f.beforeHello());
          } else {
            hello = JSON.stringify(phase === 'client' ? { type: 'hello', cluster: cluster.cluster, version: 1, client: LOCAL_CLIENT } : { type: 'hello', cluster: cluster.cluster, version: 1, node: 3 });
            for (let i = 0; i < GARBAGE_LIMIT; i++) lines.push(random() < 0.02 ? f.oversized() : phase === 'client' ? f.afterClientHello() : f.afterPeerHello());
          }
          let endTurn = () => {};
          if (phase === 'peer') {
            const previous = peerTurn.get(node)!;
            peerTurn.set(node, new Promise<void>((r) => (endTurn = r)));
            await previous;
          }
          const { socket, closed } = await open(cluster, node, phase === 'peer' ? nodeName(3) : clientName(LOCAL_CLIENT));
          await sendSplit(socket, hello ? [hello, ...lines] : lines, random);
          const timeout = new Promise<string>((r) => setTimeout(() => r('open'), 5000));
          const outcome = await Promise.race([closed.then(() => 'closed'), timeout]);
          socket.destroy();
          endTurn();
          expect(outcome, why(`connection ${index} (${phase}) to node ${node} was not closed after ${lines.length} refused frames: ${lines.map((l) => l.slice(0, 200)).join(' | ')}`)).toBe('closed');
          sent.set(node, sent.get(node)! + lines.length);
          connections++;
        }
      };
      await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
      const total = [...sent.values()].reduce((a, b) => a + b, 0);
      expect(total).toBeGreaterThanOrEqual(FRAMES);

      const after = await Promise.all(targets.map(snapshot));
      expect(after, why('a node changed state')).toEqual(before);
      await cluster.stop();
      for (const id of targets) {
        expect(cluster.exitStatus(id), why(`node ${id} did not stop cleanly`)).toBe(0);
        const log = readFileSync(files(id).log, 'utf8');
        expect(log, why(`node ${id} logged an internal error`)).not.toMatch(/internal error|^\s+at /m);
        const stopped = /stopped after (\d+) events \((\d+) frames refused\)/.exec(log);
        expect(stopped, why(`node ${id} did not report its counts`)).not.toBeNull();
        expect(Number(stopped![1]), why(`node ${id} processed events during the fuzz`)).toBe(before[id - 1].records);
        expect(Number(stopped![2]), why(`node ${id} refused a different number of frames than it was sent`)).toBe(sent.get(id));
      }
      process.stdout.write(`fuzz FUZZ_SEED=${SEED}: ${total} frames on ${connections} connections, all refused, no state change\n`);
    } finally {
      await cluster.stop();
    }
  }, 300_000);
});
