/**
 * Every registered primitive on real node processes through its default cluster script (the
 * seed's scenario): properties hold over the merged trace, every node conforms to the pure
 * machine, and the primitive's own acceptance facts hold: mutex grants in timestamp order with
 * increasing fencing tokens, consensus decides one value with a node killed mid-round, barrier
 * releases everyone. The Mermaid diagram of a run with every kind of event parses with Mermaid's
 * own parser. Needs `npx tsc -p .` first.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { protocols } from '../machines/index.js';
import type { ClusterScript } from '../src/runtime/cluster-script.js';
import { defaultScript, runCluster } from '../src/runtime/run-cluster.js';
import { builtIns } from '../src/cli/protocol-source.js';
import { bodyData } from '../src/report/headless-chromium.js';
import { parsePage } from '../src/report/parse-page.js';
import { mermaidBundle } from '../src/report/write-report.js';
import { traceDiagram } from '../src/runtime/trace-diagram.js';
import { mergeTraces, readTrace, type NodeRecord, type TraceRecord } from '../src/runtime/trace-log.js';

const root = mkdtempSync(join(tmpdir(), 'coordkit-prim-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function run(name: string, nodes: number, variantName?: string, script?: ClusterScript) {
  const protocol = protocols.find((p) => p.name === name)!;
  const variant = protocol.variants.find((v) => v.name === (variantName ?? protocol.defaultVariant))!;
  const dir = join(root, `${name}-${variant.name}`);
  const report = await runCluster({ protocol, variant, nodes, script: script ?? defaultScript((await builtIns()).find((b) => b.protocol === protocol)!.scenarioDir, nodes), dir });
  const notes = readTrace(report.traceFile)
    .filter((r): r is NodeRecord => r.kind !== 'fault')
    .flatMap((r) => r.notes.map((note) => ({ node: r.node, note: note as Record<string, any> })));
  return { report, notes };
}

const registered = (name: string) => protocols.some((p) => p.name === name);

describe('primitives over TCP', () => {
  it.runIf(registered('mutex'))('mutex: grants in timestamp order (N1, N2, N3) with increasing fencing tokens', async () => {
    const { report, notes } = await run('mutex', 3);
    expect(report.scriptError).toBeUndefined();
    expect(report.divergences).toEqual([]);
    expect(report.properties.violations).toEqual([]);
    expect(report.ok).toBe(true);
    const enters = notes.filter((n) => n.note.type === 'enter');
    expect(enters.map((e) => e.node)).toEqual([1, 2, 3]);
    const tokens = enters.map((e) => e.note.token as number);
    expect(tokens).toEqual([...tokens].sort((a, b) => a - b));
    expect(new Set(tokens).size).toBe(3);
  });

  it.runIf(registered('consensus'))('consensus: decides one value with a node killed mid-round; its diagram parses', async () => {
    const { report, notes } = await run('consensus', 5);
    expect(report.scriptError).toBeUndefined();
    expect(report.divergences).toEqual([]);
    expect(report.properties.violations).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.steps.some((s) => /kill -9 node 3/.test(s))).toBe(true);
    const decided = notes.filter((n) => n.note.type === 'decided');
    expect(decided.length).toBeGreaterThan(0);
    expect(new Set(decided.map((d) => d.note.value)).size).toBe(1);
    expect(['scale_up', 'scale_down']).toContain(decided[0].note.value);

    // Its Mermaid diagram parses with Mermaid's own parser (headless Chromium, the bundle the HTML
    // report ships), as it is and with a partition and a heal recorded half-way.
    const merged = readTrace(report.traceFile);
    const plain = traceDiagram(merged, 5, 'consensus run').text;
    expect(plain).toMatch(/Note over N3: kill -9/);
    expect(plain).toMatch(/Note over N1: client client.propose value=scale_up/);
    const mid = merged[Math.floor(merged.length / 2)].time;
    const split = [...merged, { node: 0, time: mid, kind: 'fault', op: 'partition', sides: [[1, 2, 3], [4, 5]] }, { node: 0, time: mid + 1, kind: 'fault', op: 'heal' }] as TraceRecord[];
    const faulted = traceDiagram(mergeTraces([split]), 5, 'with partition').text;
    expect(faulted).toMatch(/Note over N1,N5: partition \{1,2,3\}\|\{4,5\}/);
    const dir = join(root, 'parse');
    mkdirSync(dir, { recursive: true });
    copyFileSync(mermaidBundle(), join(dir, 'mermaid.min.js'));
    writeFileSync(join(dir, 'parse.html'), parsePage(['sequenceDiagram\n    N1->>: an arrow to nobody', plain, faulted]));
    const results: string[] = JSON.parse(bodyData(join(dir, 'parse.html'))['parse-results'] ?? '[]');
    expect(results).toHaveLength(3);
    expect(results[0]).not.toBe('ok');
    expect(results.slice(1)).toEqual(['ok', 'ok']);
  });

  it.runIf(registered('barrier'))('barrier: releases everyone at once, after the last arrival', async () => {
    const { report, notes } = await run('barrier', 5);
    expect(report.scriptError).toBeUndefined();
    expect(report.divergences).toEqual([]);
    expect(report.properties.violations).toEqual([]);
    expect(report.ok).toBe(true);
    const types = notes.map((n) => n.note.type);
    const lastArrive = types.lastIndexOf('arrive');
    const releases = notes.filter((n) => n.note.type === 'release');
    expect(releases).toHaveLength(1);
    expect(types.indexOf('release')).toBeGreaterThan(lastArrive);
    const released = notes.filter((n) => n.note.type === 'released');
    expect(released.map((n) => n.node).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(new Set(released.map((n) => n.note.generation))).toEqual(new Set([0]));
  });

  it.runIf(registered('barrier'))('a buggy barrier (releases one arrival early) is caught over its real trace', async () => {
    const arrive = (node: number) => ({ client: node, request: { type: 'client.arrive' } });
    const script: ClusterScript = { steps: [arrive(1), arrive(2), arrive(3), arrive(4), { sleep: 300 }, arrive(5), { sleep: 200 }] };
    const { report } = await run('barrier', 5, 'off-by-one', script);
    expect(report.divergences).toEqual([]);
    expect(report.properties.violations.map((v) => v.property)).toContain('no release before all arrived');
    expect(report.ok).toBe(false);
  });
});
