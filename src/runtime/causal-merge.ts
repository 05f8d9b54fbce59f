/**
 * The records of a run's traces in one order the run could have had (Lamport, "Time, Clocks, and
 * the Ordering of Events in a Distributed System", 1978: any total order that extends
 * happened-before). Stamps of different processes agree only as closely as their clocks were
 * anchored (trace-clock.ts); on a loaded machine a node's stamps can run milliseconds ahead of
 * another's, further than a send and its receipt are apart. Sorted by stamp alone, a receipt then
 * comes before its send, and a property judged after every record sees a world no run had: a
 * commit accepted before the promises it followed, a decision before the acceptances it counted.
 *
 * So stamps only break ties among what happened-before leaves free. A record comes after
 * - the node's previous record (`seq`), and the launcher's previous record;
 * - for a message received, the record that sent it: the k-th receipt of a message on a
 *   channel (sender, receiver, content) after the k-th send of it, in the sender's order (a
 *   receipt's own send is that one or a later one, so the bound never claims too much);
 * - for the launcher's kill of a node, every record of the life it ended, and for that node's
 *   next start, the kill (used only when the node's kills and restarts pair up one to one).
 */
import { canonical } from '../canonical.js';
import type { NodeRecord, TraceRecord } from './trace-log.js';

/** Stamp order, as the ties are broken: launcher first, then node id, then per-node sequence. */
const byStamp = (a: TraceRecord, b: TraceRecord) => a.time - b.time || a.node - b.node || ('seq' in a && 'seq' in b ? a.seq - b.seq : 0);

/** Each node's records in `seq` order, and the launcher's (node 0) in stamp order. */
function chainsOf(all: readonly TraceRecord[]): TraceRecord[][] {
  const by = new Map<number, TraceRecord[]>();
  for (const r of all) listIn(by, r.node).push(r);
  return [...by.entries()].map(([node, rs]) => (node === 0 ? rs.sort(byStamp) : (rs as NodeRecord[]).sort((a, b) => a.seq - b.seq || a.time - b.time)));
}

/** The list `map` holds under `key`, made empty when absent. */
function listIn<K, V>(map: Map<K, V[]>, key: K): V[] {
  let list = map.get(key);
  if (!list) map.set(key, (list = []));
  return list;
}

/** Per record, the records that must come before it beyond its own chain. */
function causes(chains: readonly TraceRecord[][]): Map<TraceRecord, TraceRecord[]> {
  const before = new Map<TraceRecord, TraceRecord[]>();
  const add = (r: TraceRecord | undefined, cause: TraceRecord | undefined) => r && cause && listIn(before, r).push(cause);
  const nodes = chains.filter((c) => c.length && c[0].node !== 0) as NodeRecord[][];
  const sends = new Map<string, NodeRecord[]>();
  for (const chain of nodes) for (const r of chain) for (const s of r.sends) if (!s.lost) listIn(sends, `${r.node}>${s.to}:${canonical(s.msg)}`).push(r);
  const received = new Map<string, number>();
  for (const chain of nodes) {
    for (const r of chain) {
      if (r.kind !== 'peer' || !r.event) continue;
      const { from, ...msg } = r.event;
      const key = `${Number(from)}>${r.node}:${canonical(msg)}`;
      const k = received.get(key) ?? 0;
      received.set(key, k + 1);
      add(r, sends.get(key)?.[k]);
    }
  }
  const launcher = chains.find((c) => c.length && c[0].node === 0) ?? [];
  for (const chain of nodes) {
    const lives: NodeRecord[][] = [];
    for (const r of chain) {
      if (r.kind === 'init' || lives.length === 0) lives.push([]);
      lives[lives.length - 1].push(r);
    }
    const kills = launcher.filter((f) => f.kind === 'fault' && f.op === 'kill' && f.target === chain[0].node);
    // Each kill ends one life, and each life but the last ends with a kill: the m-th kill ends the m-th life.
    if (kills.length !== lives.length - 1 && kills.length !== lives.length) continue;
    kills.forEach((kill, m) => {
      add(kill, lives[m].at(-1));
      add(lives[m + 1]?.[0], kill);
    });
  }
  return before;
}

/**
 * Merges the records of many traces (nodes' and the launcher's) in stamp order wherever
 * happened-before allows it. Records whose causes cannot all come first (traces that contradict
 * themselves) are placed by stamp; the conformance check reports what is wrong with them.
 */
export function causalMerge(traces: readonly TraceRecord[][]): TraceRecord[] {
  const chains = chainsOf(traces.flat());
  const before = causes(chains);
  const placed = new Set<TraceRecord>();
  const heads = chains.map(() => 0);
  const out: TraceRecord[] = [];
  const total = chains.reduce((a, c) => a + c.length, 0);
  const ready = (r: TraceRecord) => (before.get(r) ?? []).every((c) => placed.has(c));
  while (out.length < total) {
    let pick = -1;
    let fallback = -1;
    chains.forEach((chain, i) => {
      const r = chain[heads[i]];
      if (!r) return;
      if (fallback < 0 || byStamp(r, chains[fallback][heads[fallback]]) < 0) fallback = i;
      if (ready(r) && (pick < 0 || byStamp(r, chains[pick][heads[pick]]) < 0)) pick = i;
    });
    const i = pick >= 0 ? pick : fallback;
    const r = chains[i][heads[i]++];
    placed.add(r);
    out.push(r);
  }
  return out;
}
