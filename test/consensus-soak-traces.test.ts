/**
 * Real traces of the crash soak (5-node consensus over slots, kill -9, a loaded machine), judged
 * as the soak judges them. In both, one node's stamps run milliseconds ahead of another's (its
 * clock was anchored while the machine was busy, trace-clock.ts), so sorted by stamp a message
 * is received before the record that sent it. Judged in that order, the run seemed to break
 * "a commit follows a majority's promises" (a commit accepted before the promise notes that
 * made it possible) and "a decided value stays chosen" (a decision before the acceptance it
 * counted): the two violations of the soak that took the slots machine out. Merged in an order
 * the run could have had (causal-merge.ts), the same records break nothing and conform.
 * Each fixture is the first records of a soak round in that order, a consistent cut (every
 * receipt's send is in it): `promises` is seed 51253754 up to its first kill, `decided` seed
 * 142566694 up to the decision of slot 5 (two kills and a restart included).
 * Needs `npx tsc -p .` first.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { protocols } from '../machines/index.js';
import { causalMerge } from '../src/runtime/causal-merge.js';
import { analyzeTraces } from '../src/runtime/run-cluster.js';
import { readTrace, type NodeRecord, type TraceRecord } from '../src/runtime/trace-log.js';
import { checkTraceProperties } from '../src/runtime/trace-properties.js';

const consensus = protocols.find((p) => p.name === 'consensus')!;
const paxos = consensus.variants.find((v) => v.name === consensus.defaultVariant)!;
const filesOf = (name: string) => {
  const dir = join(import.meta.dirname, 'golden', `consensus-skew-${name}`);
  return readdirSync(dir).map((f) => join(dir, f));
};
const byStamp = (a: TraceRecord, b: TraceRecord) => a.time - b.time || a.node - b.node || ('seq' in a && 'seq' in b ? a.seq - b.seq : 0);
const key = (r: TraceRecord) => `${r.node}/${'seq' in r ? r.seq : r.time}`;

/** Every receipt stamped before the record that sent it, as `receiver#seq < sender#seq`. */
function receiptsBeforeSends(records: readonly TraceRecord[]): string[] {
  const nodes = records.filter((r): r is NodeRecord => r.kind !== 'fault');
  const out: string[] = [];
  for (const r of nodes) {
    if (r.kind !== 'peer' || !r.event) continue;
    const { from, ...msg } = r.event;
    const sender = nodes.find((s) => s.node === from && s.sends.some((x) => x.to === r.node && JSON.stringify(x.msg) === JSON.stringify(msg)));
    if (sender && sender.time > r.time) out.push(`${r.node}#${r.seq} < ${sender.node}#${sender.seq}`);
  }
  return out;
}

describe('crash soak traces with skewed stamps', () => {
  for (const [name, property, skew] of [
    ['promises', "a commit follows a majority's promises", '2#5 < 3#4'],
    ['decided', 'a decided value stays chosen', '1#20 < 4#17'],
  ] as const) {
    it(`${name}: sorted by stamp a receipt precedes its send and '${property}' seems broken; merged causally, nothing is`, () => {
      const files = filesOf(name);
      const records = files.flatMap((f) => readTrace(f));
      expect(receiptsBeforeSends(records)).toContain(skew);
      const stampOrder = records.slice().sort(byStamp);
      expect(checkTraceProperties(consensus, paxos, 5, stampOrder).violations.map((v) => v.property)).toContain(property);

      const judged = analyzeTraces(consensus, paxos, 5, files);
      expect(judged.divergences).toEqual([]);
      // A cut of a run: its end is not a settled world, so only the `always` properties speak.
      expect(judged.properties.violations.filter((v) => v.kind === 'always')).toEqual([]);
      expect(judged.merged.map(key).sort()).toEqual(records.map(key).sort());
    });
  }
});

describe('causalMerge', () => {
  const rec = (node: number, seq: number, time: number, extra: Partial<NodeRecord> = {}): NodeRecord => ({ node, seq, time, kind: 'peer', after: 'x', context: {}, sends: [], notes: [], timers: [], cancels: [], ...extra });
  const ping = { type: 'ping', n: 1 };

  it('puts a receipt after its send, each node in sequence, and otherwise keeps stamp order', () => {
    const send = rec(2, 0, 10, { kind: 'client', sends: [{ to: 1, msg: ping }] });
    const receipt = rec(1, 0, 8, { event: { ...ping, from: 2 } });
    const early = rec(3, 0, 5);
    const late = rec(3, 1, 20);
    const merged = causalMerge([[receipt], [late, send], [early]]);
    expect(merged.map(key)).toEqual(['3/0', '2/0', '1/0', '3/1']);
    // In stamp order, the same records (no cause out of order) stay as they are.
    expect(causalMerge([[rec(1, 0, 12, { event: { ...ping, from: 2 } })], [send], [early, late]]).map(key)).toEqual(['3/0', '2/0', '1/0', '3/1']);
  });

  it('matches the k-th receipt of a message on a channel with its k-th send', () => {
    const first = rec(2, 0, 10, { sends: [{ to: 1, msg: ping }] });
    const second = rec(2, 1, 30, { sends: [{ to: 1, msg: ping }] });
    const got = [rec(1, 0, 11, { event: { ...ping, from: 2 } }), rec(1, 1, 25, { event: { ...ping, from: 2 } })];
    expect(causalMerge([got, [first, second]]).map(key)).toEqual(['2/0', '1/0', '2/1', '1/1']);
  });

  it("puts a node's life before the kill that ended it, and its next start after", () => {
    const kill = { node: 0 as const, time: 10, kind: 'fault' as const, op: 'kill' as const, target: 1 };
    const lastOfLife = rec(1, 1, 12);
    const nextStart = rec(1, 2, 9, { kind: 'init' });
    const merged = causalMerge([[kill], [rec(1, 0, 1, { kind: 'init' }), lastOfLife, nextStart]]);
    expect(merged.map(key)).toEqual(['1/0', '1/1', '0/10', '1/2']);
  });
});
