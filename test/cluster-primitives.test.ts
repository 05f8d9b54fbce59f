/**
 * Every registered primitive on real node processes through its default cluster script (the
 * seed's scenario): properties hold over the merged trace, every node conforms to the pure
 * machine, and the primitive's own acceptance facts hold: mutex grants in timestamp order with
 * increasing fencing tokens, consensus decides one value with a node killed mid-round, barrier
 * releases everyone. Needs `npx tsc -p .` first.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { protocols } from '../machines/index.js';
import { defaultScript, runCluster } from '../src/runtime/run-cluster.js';
import { readTrace, type NodeRecord } from '../src/runtime/trace-log.js';

const root = mkdtempSync(join(tmpdir(), 'coordkit-prim-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function run(name: string, nodes: number) {
  const protocol = protocols.find((p) => p.name === name)!;
  const variant = protocol.variants.find((v) => v.name === protocol.defaultVariant)!;
  const dir = join(root, name);
  const report = await runCluster({ protocol, variant, nodes, script: defaultScript(protocol, nodes), dir });
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

  it.runIf(registered('consensus'))('consensus: decides one value with a node killed mid-round', async () => {
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
});
