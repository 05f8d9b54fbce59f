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
import { DurableStore } from '../src/runtime/durable-store.js';
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
  restartLog: string[];
  analysis: ReturnType<typeof analyzeTraces>;
}

/** Node 1 (built by `Host1`, on `disk`) halts on the fault; it then restarts on the real disk and the run is judged. */
async function runWithFault(name: string, disk: DiskIo & { fired: boolean }, Host1: typeof NodeHost = NodeHost): Promise<FaultRun> {
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
  const first = make(1, Host1, { disk, onHalt: (f: DiskFault) => faults.push(f) });
  const others = [make(2, NodeHost), make(3, NodeHost)];
  let restarted: NodeHost | null = null;
  try {
    for (const h of others) await h.start();
    await first.start();
    const deadline = Date.now() + 8000;
    while (!first.fault && Date.now() < deadline) await sleep(10);
    expect(first.fault, 'the planned fault never happened').not.toBeNull();
    const last = readTrace(first.traceFile).at(-1) as NodeRecord;
    await first.stop();
    await sleep(300); // anything node 1 sent has arrived by now
    restarted = make(1, NodeHost, { log: (line: string) => restartLog.push(line) });
    await restarted.start();
    await sleep(500);
    await Promise.all([restarted.stop(), ...others.map((h) => h.stop())]);
    const files = [1, 2, 3].map((id) => join(dir, `node-${id}`, 'trace.ndjson'));
    return { fault: faults[0], halts: faults.length, last, restartLog, analysis: analyzeTraces(election, prevote, 3, files) };
  } finally {
    await Promise.all([first.stop(), restarted?.stop(), ...others.map((h) => h.stop())]);
  }
}

const stateFaults: DiskFaultPlan[] = [
  { op: 'write', file: 'state.json.tmp', nth: 2, code: 'ENOSPC' },
  { op: 'open', file: 'state.json.tmp', nth: 2, code: 'EACCES' },
  { op: 'fsync', file: 'state.json.tmp', nth: 2, code: 'EIO' },
  { op: 'rename', file: 'state.json.tmp', nth: 2, code: 'EROFS' },
];

describe('a failed durable write halts the node before anything that depends on it leaves', () => {
  for (const plan of stateFaults) {
    it(`state file: ${plan.op} fails with ${plan.code} on the node's first term change`, async () => {
      const run = await runWithFault(`state-${plan.op}`, new FaultyDisk(plan));
      expect(run.halts).toBe(1);
      expect(run.fault.code).toBe(plan.code);
      expect(run.fault.message).toMatch(new RegExp(`^disk fault: ${plan.op} \\S*state\\.json\\.tmp.* failed: ${plan.code} \\(`));
      // The step whose state failed to save was traced with messages to send...
      expect(run.last.sends.filter((s) => !s.lost).length).toBeGreaterThan(0);
      // ...the node restarted from the state before it, so the step did not happen, and no peer received any of them.
      expect(run.analysis.unpersisted).toEqual([{ node: 1, seq: run.last.seq }]);
      expect(run.analysis.divergences).toEqual([]);
      expect(run.analysis.properties.violations).toEqual([]);
    });
  }

  it('state folder: fsync after the rename fails with EIO; the node restarts from the renamed state, and still nothing of the step was received', async () => {
    // Two saves so far (start, first term change), each an fsync of the file and one of the folder: the 4th is the folder's.
    const run = await runWithFault('state-dir-fsync', new FaultyDisk({ op: 'fsync', file: 'node-1', nth: 4, code: 'EIO' }));
    expect(run.fault.message).toMatch(/^disk fault: fsync \S*node-1 failed: EIO/);
    expect(run.last.sends.filter((s) => !s.lost).length).toBeGreaterThan(0);
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
    expect(run.last.sends.filter((s) => !s.lost).length).toBeGreaterThan(0);
    expect(run.analysis.divergences.some((d) => /which never sent it/.test(d.what))).toBe(true);
  });
});

describe('the state file and the trace on a failing disk', () => {
  it('a failed save keeps the previous state, whichever call fails', () => {
    for (const plan of stateFaults) {
      const dir = join(root, `store-${plan.op}`);
      const disk = new FaultyDisk({ ...plan, nth: 2 });
      const store = new DurableStore(dir, 'election', 1, disk);
      expect(store.load()).toBeUndefined();
      store.save({ currentTerm: 1 });
      expect(() => store.save({ currentTerm: 2 })).toThrow(DiskFault);
      expect(disk.fired).toBe(true);
      const reread = new DurableStore(dir, 'election', 1).load();
      // A failed rename leaves the old file; so does every call before it.
      expect(reread).toEqual({ currentTerm: 1 });
    }
  });

  it('a torn tail is cut back to the last complete record; a bad line in the middle still stops the node', async () => {
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

    // Corruption before the last line is not a torn write: the node refuses to start.
    const mid = join(root, 'mid');
    mkdirSync(mid, { recursive: true });
    writeFileSync(join(mid, 'trace.ndjson'), JSON.stringify(record(0)) + '\n{"node":1,"se\n' + JSON.stringify(record(1)) + '\n');
    const [port] = await freePorts(1);
    const host = new NodeHost({ protocol: election, variant: prevote, id: 1, cluster: 'disk', listen: { host: '127.0.0.1', port }, peers: new Map([[2, { host: '127.0.0.1', port: 1 }]]), dataDir: mid, schemaDir: schemasDir(), log: () => {}, insecure: true });
    await expect(host.start()).rejects.toThrow(/trace\.ndjson:2: not a trace record/);
    await host.stop();
  });
});
