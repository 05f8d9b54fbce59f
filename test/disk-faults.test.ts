/**
 * Storage is fail-stop. The Nth file-system call fails (ENOSPC, EACCES, EIO, EROFS; a write may
 * tear the trace's last line) on a node of a real 3-node election cluster on loopback: the node
 * halts inside the step and reports one DiskFault; after it restarts on a healthy disk (a torn
 * trace line truncated and reported), the conformance replay shows that no peer ever received a
 * message of the step that was not saved. The same check catches a host that sends before it
 * persists. Faults through the real `coordkit node` command are in disk-full.test.ts.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { protocols } from '../machines/index.js';
import type { NodeId } from '../src/protocol.js';
import { DiskFault, type DiskIo } from '../src/runtime/disk-io.js';
import { DurableStore, readStoredState, type StoreOptions } from '../src/runtime/durable-store.js';
import { freePorts } from '../src/runtime/local-cluster.js';
import { NodeHost } from '../src/runtime/node-host.js';
import { kitSchemaDir as schemasDir } from '../src/cli/protocol-source.js';
import type { Address } from '../src/runtime/peer-link.js';
import { analyzeTraces } from '../src/runtime/run-cluster.js';
import { readTrace, TraceWriter, truncateTornTail, type NodeRecord } from '../src/runtime/trace-log.js';
import { FaultyDisk, type DiskFaultPlan } from './faulty-disk.js';

const root = mkdtempSync(join(tmpdir(), 'coordkit-disk-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const election = protocols.find((p) => p.name === 'election')!;
const prevote = election.variants.find((v) => v.name === election.defaultVariant)!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A host with the bug fail-stop exists to prevent: it sends as soon as the machine decides, before tracing and persisting. */
class EagerHost extends NodeHost {
  protected override sendMessage(to: NodeId, msg: { type: string }, record: NodeRecord): () => void {
    super.sendMessage(to, msg, record)();
    return () => {};
  }
}

interface FaultRun {
  fault: DiskFault;
  halts: number;
  /** Node 1's last record before it halted (the failed step, when the trace write succeeded). */
  last: NodeRecord;
  /** Node 1's first term change, the step whose flush the state faults hit, and every record from it on. */
  fromTermChange: NodeRecord[];
  restartLog: string[];
  analysis: ReturnType<typeof analyzeTraces>;
}

/** Node 1 (built by `Host1`, on `disk`) halts on the fault; it then restarts on the real disk and the run is judged. */
async function runWithFault(name: string, disk: DiskIo & { fired: boolean }, Host1: typeof NodeHost = NodeHost, store: StoreOptions = {}): Promise<FaultRun> {
  const dir = join(root, name);
  const ports = await freePorts(3);
  const addr = (id: number): Address => ({ host: '127.0.0.1', port: ports[id - 1] });
  const faults: DiskFault[] = [];
  const restartLog: string[] = [];
  const make = (id: number, Host: typeof NodeHost, extra: object = {}) =>
    new Host({
      protocol: election,
      variant: prevote,
      id,
      cluster: 'disk',
      listen: addr(id),
      peers: new Map([1, 2, 3].filter((p) => p !== id).map((p) => [p, addr(p)] as [number, Address])),
      dataDir: join(dir, `node-${id}`),
      schemaDir: schemasDir(),
      log: () => {},
      insecure: true,
      ...extra,
    });
  const first = make(1, Host1, { disk, store, onHalt: (f: DiskFault) => faults.push(f) });
  const others = [make(2, NodeHost), make(3, NodeHost)];
  let restarted: NodeHost | null = null;
  try {
    for (const h of others) await h.start();
    await first.start();
    const deadline = Date.now() + 8000;
    while (!first.fault && Date.now() < deadline) await sleep(10);
    expect(first.fault, 'the planned fault never happened').not.toBeNull();
    const records = readTrace(first.traceFile) as NodeRecord[];
    const last = records.at(-1)!;
    const fromTermChange = records.slice(records.findIndex((r) => (r.context as { currentTerm: number }).currentTerm > 0));
    await first.stop();
    await sleep(300); // anything node 1 sent has arrived by now
    restarted = make(1, NodeHost, { log: (line: string) => restartLog.push(line) });
    await restarted.start();
    await sleep(500);
    await Promise.all([restarted.stop(), ...others.map((h) => h.stop())]);
    const files = [1, 2, 3].map((id) => join(dir, `node-${id}`, 'trace.ndjson'));
    return { fault: faults[0], halts: faults.length, last, fromTermChange, restartLog, analysis: analyzeTraces(election, prevote, 3, files) };
  } finally {
    await Promise.all([first.stop(), restarted?.stop(), ...others.map((h) => h.stop())]);
  }
}

/**
 * The log's first record is written at start, the second on the first term change. With one-byte
 * segments every flush after the first is a compaction: it opens and writes the next segment.
 */
const stateFaults: (DiskFaultPlan & { call: string; store?: StoreOptions; written?: true })[] = [
  { op: 'write', file: 'wal-', nth: 2, code: 'ENOSPC', call: 'write' },
  // The record was written before its fdatasync failed: the page cache still holds it, so a
  // restart on the same machine reads it back (the state is then ahead of what was sent).
  { op: 'fsync', file: 'wal-', nth: 2, code: 'EIO', call: 'fdatasync', written: true },
  { op: 'open', file: 'wal-000002', nth: 1, code: 'EACCES', call: 'open', store: { segmentBytes: 1 } },
  { op: 'write', file: 'wal-000002', nth: 1, code: 'EROFS', call: 'write', store: { segmentBytes: 1 } },
];

describe('a failed durable write halts the node before anything that depends on it leaves', () => {
  for (const plan of stateFaults) {
    it(`log: ${plan.call} fails with ${plan.code} on the node's first term change${plan.store ? ' (a compaction)' : ''}`, async () => {
      const run = await runWithFault(`state-${plan.op}-${plan.code}`, new FaultyDisk(plan), NodeHost, plan.store);
      expect(run.halts).toBe(1);
      expect(run.fault.code).toBe(plan.code);
      expect(run.fault.message).toMatch(new RegExp(`^disk fault: ${plan.call} \\S*wal-\\d+\\.log failed: ${plan.code} \\(`));
      // The step whose state failed to save was traced with messages to send...
      expect(run.fromTermChange[0].sends.filter((s) => !s.lost).length).toBeGreaterThan(0);
      // ...the node restarted from the state before it, so that step and any it took while the
      // flush ran did not happen, and no peer received any of their messages.
      expect(run.analysis.unpersisted).toEqual(plan.written ? [] : run.fromTermChange.map((r) => ({ node: 1, seq: r.seq })));
      expect(run.analysis.divergences).toEqual([]);
      expect(run.analysis.properties.violations).toEqual([]);
    });
  }

  it('log folder: its fsync after a compaction wrote the next segment fails with EIO; the node restarts from that segment, and still nothing of the step was received', async () => {
    // The folder at start (its first segment), the record at start, the compaction's segment, then the folder: the 4th.
    const run = await runWithFault('state-dir-fsync', new FaultyDisk({ op: 'fsync', file: 'node-1', nth: 4, code: 'EIO' }), NodeHost, { segmentBytes: 1 });
    expect(run.fault.message).toMatch(/^disk fault: fsync \S*node-1 failed: EIO/);
    expect(run.fromTermChange[0].sends.filter((s) => !s.lost).length).toBeGreaterThan(0);
    expect(run.analysis.unpersisted).toEqual([]);
    expect(run.analysis.divergences).toEqual([]);
    expect(run.analysis.properties.violations).toEqual([]);
  });

  it('trace: a write fails with ENOSPC part-way through a record; the torn line is truncated at restart and reported', async () => {
    const run = await runWithFault('trace-torn', new FaultyDisk({ op: 'write', file: 'trace.ndjson', nth: 4, code: 'ENOSPC', partialBytes: 40 }));
    expect(run.halts).toBe(1);
    expect(run.fault.message).toMatch(/^disk fault: write \S*trace\.ndjson failed: ENOSPC \(no space left on device\)$/);
    expect(run.restartLog.filter((l) => /truncated a torn last record/.test(l))).toEqual([expect.stringMatching(/trace\.ndjson:4: truncated a torn last record \(40 bytes/)]);
    expect(run.last.seq).toBe(2);
    expect(run.analysis.divergences).toEqual([]);
    expect(run.analysis.properties.violations).toEqual([]);
  });

  it('trace: a write fails with EIO; nothing of the step is traced, saved or sent', async () => {
    const run = await runWithFault('trace-eio', new FaultyDisk({ op: 'write', file: 'trace.ndjson', nth: 6, code: 'EIO' }));
    expect(run.halts).toBe(1);
    expect(run.fault.code).toBe('EIO');
    expect(run.restartLog.some((l) => /torn/.test(l))).toBe(false);
    expect(run.analysis.unpersisted).toEqual([]);
    expect(run.analysis.divergences).toEqual([]);
  });

  it('the same check catches a host that sends before it persists', async () => {
    const run = await runWithFault('eager', new FaultyDisk(stateFaults[0]), EagerHost);
    expect(run.fromTermChange[0].sends.filter((s) => !s.lost).length).toBeGreaterThan(0);
    expect(run.analysis.divergences.some((d) => /which never sent it/.test(d.what))).toBe(true);
  });
});

/** Saves one state and waits for its flush; the fault, if it failed. */
function flushed(store: DurableStore, durable: object): Promise<DiskFault | null> {
  return new Promise((resolve) => {
    store.onDurable = () => resolve(null);
    store.onFault = resolve;
    store.save(durable);
  });
}

describe('the log and the trace on a failing disk', () => {
  it('a failed flush keeps the previous state, whichever call fails, and reports no later state durable', async () => {
    for (const plan of stateFaults) {
      const dir = join(root, `store-${plan.op}-${plan.code}`);
      const disk = new FaultyDisk(plan);
      const store = new DurableStore(dir, 'election', 1, disk, plan.store);
      expect(store.load()).toBeUndefined();
      expect(await flushed(store, { currentTerm: 1 })).toBeNull();
      const fault = await flushed(store, { currentTerm: 2 });
      expect(fault).toBeInstanceOf(DiskFault);
      expect(disk.fired).toBe(true);
      expect(store.save({ currentTerm: 3 })).toBe(2);
      expect(store.durable).toBe(1);
      await store.close();
      // A write cut short is a torn tail the next start cuts off; what was flushed before stands.
      const kept = { currentTerm: plan.written ? 2 : 1 };
      expect(new DurableStore(dir, 'election', 1).load()).toEqual(kept);
      expect(readStoredState(dir)?.durable).toEqual(kept);
    }
  });

  it('a torn tail is cut back to the last complete record; a node reads only its trace\'s last record at start', async () => {
    const dir = join(root, 'torn');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'trace.ndjson');
    const writer = new TraceWriter(file, new FaultyDisk({ op: 'write', file: 'trace.ndjson', nth: 3, code: 'ENOSPC', partialBytes: 25 }));
    const record = (seq: number) => ({ node: 1, seq, time: seq, kind: 'init', after: 'follower', context: {}, sends: [], notes: [], timers: [], cancels: [] }) as NodeRecord;
    writer.append(record(0));
    writer.append(record(1));
    expect(() => writer.append(record(2))).toThrow(/disk fault: write .*trace\.ndjson failed: ENOSPC/);
    writer.close();
    expect(readFileSync(file, 'utf8').endsWith('\n')).toBe(false);
    expect(truncateTornTail(file)).toEqual({ line: 3, bytes: 25 });
    expect(readTrace(file).map((r) => (r as NodeRecord).seq)).toEqual([0, 1]);
    expect(truncateTornTail(file)).toBeNull();

    // A start reads the last record only (a trace grows for the node's whole life): a complete
    // last line that is no record stops it; a bad line before it is left to the trace's readers.
    const [port] = await freePorts(1);
    const start = async (name: string, text: string) => {
      const dataDir = join(root, name);
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(join(dataDir, 'trace.ndjson'), text);
      const host = new NodeHost({ protocol: election, variant: prevote, id: 1, cluster: 'disk', listen: { host: '127.0.0.1', port }, peers: new Map([[2, { host: '127.0.0.1', port: 1 }]]), dataDir, schemaDir: schemasDir(), log: () => {}, insecure: true });
      try {
        await host.start();
      } finally {
        await host.stop();
      }
      return host.traceFile;
    };
    await expect(start('last', JSON.stringify(record(0)) + '\n{"node":1}\n')).rejects.toThrow(/trace\.ndjson: last line has no record number/);
    const mid = JSON.stringify(record(0)) + '\n{"node":1,"se\n' + JSON.stringify(record(1)) + '\n';
    const file2 = await start('mid', mid);
    const text = readFileSync(file2, 'utf8');
    expect(text.startsWith(mid)).toBe(true);
    expect(JSON.parse(text.slice(mid.length).split('\n')[0])).toMatchObject({ seq: 2, kind: 'init' });
    expect(() => readTrace(file2)).toThrow(/trace\.ndjson:2: not a trace record/);
  });
});
