/**
 * `coordkit cluster`: the seed's election scenario on five real processes exits 0 with the
 * properties checked over the merged trace and every node conformant; the conformance replay
 * catches a host that does something its machine did not say, and the trace checks catch
 * tampered traces. Needs `npx tsc -p .` first.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { protocols } from '../machines/index.js';
import type { NodeId } from '../src/protocol.js';
import { freePorts } from '../src/runtime/local-cluster.js';
import { NodeHost } from '../src/runtime/node-host.js';
import { kitSchemaDir } from '../src/cli/protocol-source.js';
import type { Address } from '../src/runtime/peer-link.js';
import { analyzeTraces } from '../src/runtime/run-cluster.js';
import { readTrace, type NodeRecord, type TraceRecord } from '../src/runtime/trace-log.js';
import { runCli } from './runtime-helpers.js';

const BIN = join(__dirname, '..', 'bin', 'coordkit.js');
const root = mkdtempSync(join(tmpdir(), 'coordkit-cluster-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const election = protocols.find((p) => p.name === 'election')!;
const prevote = election.variants.find((v) => v.name === election.defaultVariant)!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('coordkit cluster election --nodes 5', () => {
  it('plays the seed scenario, checks the properties and conformance, and leaves nothing running', () => {
    const out = join(root, 'seed');
    const r = spawnSync(process.execPath, [BIN, 'cluster', 'election', '--nodes', '5', '--out', out], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/partition \{1,2,3\}\|\{4,5\}/);
    for (const p of election.properties.filter((x) => x.kind !== 'sometimes')) expect(r.stdout).toContain(`ok       ${p.name}`);
    expect(r.stdout).toMatch(/conformance: every node did what the pure machine does/);
    expect(r.stdout.trim().endsWith('PASS')).toBe(true);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.ok).toBe(true);
    expect(report.properties.worlds).toBeGreaterThan(50);
    const diagram = readFileSync(join(out, 'sequence.md'), 'utf8');
    expect(diagram).toMatch(/^```mermaid\nsequenceDiagram/);
    expect(diagram).toMatch(/Note right of N\d: elected term=\d+/);
    // No node process of this run is left: none has the run's folder on its command line.
    const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8', timeout: 10_000 }).stdout;
    expect(ps.split('\n').filter((l) => l.includes(out))).toEqual([]);
  });

  it('refuses a bad script or primitive with one line and exit 2', async () => {
    const bad = join(root, 'bad.json');
    writeFileSync(bad, JSON.stringify({ steps: [{ sleep: 10 }, { partition: [[1, 2], [2, 3]] }] }));
    const cases: [string[], RegExp][] = [
      [['cluster', 'election', '--nodes', '3', '--script', bad], /step 2 \(partition\): every node 1\.\.3 must be on exactly one side/],
      [['cluster', 'election', '--script', join(root, 'missing.json')], /cannot read --script/],
      [['cluster', 'nope'], /unknown primitive 'nope'/],
      [['cluster', 'election', '--nodes', '1'], /--nodes must be from 2 to 9/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });
});

/** A host with a plausible bug: it "retries" every message by sending it twice. */
class RetryingHost extends NodeHost {
  protected override sendMessage(to: NodeId, msg: { type: string }, record: NodeRecord): () => void {
    const first = super.sendMessage(to, msg, record);
    const second = super.sendMessage(to, msg, record);
    return () => {
      first();
      second();
    };
  }
}

/** Three in-process election hosts on loopback, node 3 built by `Host3`; returns their trace files. */
async function runInProcess(dir: string, Host3: typeof NodeHost, ms: number): Promise<string[]> {
  const ports = await freePorts(3);
  const addr = (id: number): Address => ({ host: '127.0.0.1', port: ports[id - 1] });
  const hosts = [1, 2, 3].map((id) => {
    const peers = new Map([1, 2, 3].filter((p) => p !== id).map((p) => [p, addr(p)] as [number, Address]));
    const Host = id === 3 ? Host3 : NodeHost;
    return new Host({ protocol: election, variant: prevote, id, cluster: 'inproc', listen: addr(id), peers, dataDir: join(dir, `node-${id}`), schemaDir: kitSchemaDir(), log: () => {}, insecure: true });
  });
  try {
    for (const h of hosts) await h.start();
    await sleep(ms);
  } finally {
    for (const h of hosts) await h.stop();
  }
  return hosts.map((h) => h.traceFile);
}

/** Every record with its whole context (a node writes most contexts as deltas). */
const readLines = (file: string): TraceRecord[] => readTrace(file);
const writeLines = (file: string, records: TraceRecord[]) => writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');

describe('conformance replay and trace properties', () => {
  it('a correct host is conformant; a host that sends twice what its machine sent once is caught', async () => {
    const good = await runInProcess(join(root, 'good'), NodeHost, 900);
    const a = analyzeTraces(election, prevote, 3, good);
    expect(a.divergences).toEqual([]);
    expect(a.merged.filter((r) => r.kind === 'peer').length).toBeGreaterThan(5);
    expect(a.properties.violations).toEqual([]);

    const bad = await runInProcess(join(root, 'retrying'), RetryingHost, 900);
    const b = analyzeTraces(election, prevote, 3, bad);
    expect(b.divergences.map((d) => d.node)).toEqual([3]);
    expect(b.divergences[0].what).toMatch(/^host sent .* the model sends/);
  });

  it('catches a tampered context, a message nobody sent, a timer that was not pending, and a doubled leader', async () => {
    const files = await runInProcess(join(root, 'tamper'), NodeHost, 900);
    expect(analyzeTraces(election, prevote, 3, files).divergences).toEqual([]);
    const original = files.map(readLines);
    const tamper = (edit: (traces: TraceRecord[][]) => void) => {
      const copy: TraceRecord[][] = JSON.parse(JSON.stringify(original));
      edit(copy);
      const dir = mkdtempSync(join(root, 't-'));
      const out = copy.map((records, i) => join(dir, `node-${i + 1}.ndjson`));
      copy.forEach((records, i) => writeLines(out[i], records));
      return analyzeTraces(election, prevote, 3, out);
    };
    const nodeRecords = (t: TraceRecord[]) => t.filter((r): r is NodeRecord => r.kind !== 'fault');

    const context = tamper((t) => {
      const r = nodeRecords(t[0]).find((x) => x.kind !== 'init')!;
      (r.context as { currentTerm: number }).currentTerm += 7;
    });
    expect(context.divergences[0]).toMatchObject({ node: 1 });
    expect(context.divergences[0].what).toMatch(/host context .* differs/);

    const unsent = tamper((t) => {
      for (const r of nodeRecords(t[1])) r.sends = [];
    });
    expect(unsent.divergences.some((d) => /which never sent it/.test(d.what))).toBe(true);

    // A node whose clock runs a second late stamps its sends after their receipts: an honest run
    // all the same. A message received once more than it was sent is caught.
    const late = tamper((t) => {
      for (const r of nodeRecords(t[1])) r.time += 1000;
    });
    expect(late.divergences).toEqual([]);
    const twice = tamper((t) => {
      const receipt = nodeRecords(t[0]).find((r) => r.kind === 'peer')!;
      const last = nodeRecords(t[0]).at(-1)!;
      t[0].push({ ...receipt, seq: last.seq + 1, time: last.time + 1 });
    });
    expect(twice.divergences.some((d) => d.node === 1 && /which never sent it \(or it was received twice\)/.test(d.what))).toBe(true);

    const timer = tamper((t) => {
      const init = nodeRecords(t[2])[0];
      init.timers = [];
    });
    expect(timer.divergences.some((d) => d.node === 3 && /host armed nothing/.test(d.what))).toBe(true);

    // Two leaders in one term: copy the winner's `elected` note onto another node's record.
    const all = original.flat().filter((r): r is NodeRecord => r.kind !== 'fault');
    const win = all.find((r) => r.notes.some((n) => n.type === 'elected'))!;
    const twoLeaders = tamper((t) => {
      const other = nodeRecords(t[win.node % 3]).at(-1)!;
      other.notes.push(win.notes.find((n) => n.type === 'elected')!);
    });
    expect(twoLeaders.properties.violations.map((v) => v.property)).toContain('one leader per term');
  });

  it('a restarted node that resumes from a state it never traced is caught', async () => {
    const dir = join(root, 'restart');
    const files = await runInProcess(dir, NodeHost, 600);
    // Node 1 restarts from a forged state file (its log gone): a term it never reached.
    for (const f of readdirSync(join(dir, 'node-1'))) if (f.startsWith('wal-')) rmSync(join(dir, 'node-1', f));
    writeFileSync(join(dir, 'node-1', 'state.json'), JSON.stringify({ primitive: 'election', node: 1, durable: { currentTerm: 40, votedFor: null, data: { version: 0, value: null } } }));
    expect(existsSync(files[0])).toBe(true);
    const again = await runInProcess(dir, NodeHost, 300);
    const a = analyzeTraces(election, prevote, 3, again);
    expect(a.divergences.find((d) => d.node === 1)?.what).toMatch(/restarted from .*"currentTerm":40.* but its last traced durable state was/);
  });
});
