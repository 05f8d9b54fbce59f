/**
 * Symmetry reduction (Ip & Dill 1996; TLC's SYMMETRY): when node ids are interchangeable, worlds
 * that differ only by a renaming of node ids behave alike, so the explorer keeps one per class.
 * The canonical fingerprint of a world is the smallest fingerprint over every permutation of
 * ids; node ids inside contexts, messages, timers and notes are renamed through the fields the
 * primitive names (`idFields`). Permuted parts are interned and cached, so a permutation costs
 * about one fingerprint.
 */
import type { NodeId } from '../protocol.js';
import { canonical } from '../canonical.js';
import { hashInts, type Hash64 } from './hash64.js';
import type { Simulator } from './simulator.js';
import { channelIndex, type MsgRef, type TimerRef, type World } from './world.js';

/** Renames node ids found under `fields`: a number, or an array of numbers (re-sorted). */
export function renameIds(value: unknown, fields: ReadonlySet<string>, rename: (id: NodeId) => NodeId): any {
  if (Array.isArray(value)) return value.map((v) => renameIds(v, fields, rename));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (!fields.has(k)) out[k] = renameIds(v, fields, rename);
    else if (typeof v === 'number') out[k] = rename(v);
    else if (Array.isArray(v) && v.every((x) => typeof x === 'number')) out[k] = v.map(rename).sort((a, b) => a - b);
    else out[k] = v;
  }
  return out;
}

function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  const out: number[][] = [];
  for (const rest of permutations(n - 1)) {
    for (let i = 0; i <= rest.length; i++) out.push([...rest.slice(0, i), n, ...rest.slice(i)]);
  }
  return out;
}

const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

export class Symmetry {
  /** perms[p][old - 1] = new id. */
  private readonly perms: number[][];
  private readonly inverse: number[][];
  private readonly fields: ReadonlySet<string>;
  private readonly locals = new Map<number, number>();
  private readonly durables = new Map<number, number>();
  private readonly msgs = new Map<number, MsgRef>();
  private readonly timers = new Map<number, TimerRef>();
  private readonly notes = new Map<number, number>();
  private buf = new Int32Array(1024);

  constructor(private readonly sim: Simulator, idFields: readonly string[]) {
    this.fields = new Set(idFields);
    this.perms = permutations(sim.n);
    this.inverse = this.perms.map((p) => {
      const inv: number[] = [];
      p.forEach((to, i) => (inv[to - 1] = i + 1));
      return inv;
    });
  }

  private cached<T>(cache: Map<number, T>, id: number, p: number, make: () => T): T {
    const key = id * this.perms.length + p;
    let v = cache.get(key);
    if (v === undefined) {
      v = make();
      cache.set(key, v);
    }
    return v;
  }

  fingerprint(world: World): Hash64 {
    let best: Hash64 | null = null;
    for (let p = 0; p < this.perms.length; p++) {
      const h = this.encode(world, p);
      if (!best || h.hi < best.hi || (h.hi === best.hi && h.lo < best.lo)) best = h;
    }
    return best!;
  }

  private encode(world: World, p: number): Hash64 {
    const { sim } = this;
    const n = sim.n;
    const perm = this.perms[p];
    const inv = this.inverse[p];
    const rename = (id: NodeId) => perm[id - 1];
    const ren = (v: unknown) => renameIds(v, this.fields, rename);
    const need = 64 + world.history.length + world.channels.reduce((a, c) => a + c.length + 1, 0) + world.nodes.reduce((a, s) => a + s.timers.length + 4, 0);
    if (this.buf.length < need) this.buf = new Int32Array(need * 2);
    const buf = this.buf;
    let k = 0;
    for (let to = 1; to <= n; to++) {
      const slot = world.nodes[inv[to - 1] - 1];
      if (slot.local) {
        const local = slot.local;
        buf[k++] = this.cached(this.locals, local.id, p, () => sim.stepper.internState(ren(local.value), ren(local.context)).id);
        // What its disk lags behind with, if anything (never a negative id, unlike a down node's).
        const d = slot.durable;
        buf[k++] = d === null ? -1 : this.cached(this.durables, d.id, p, () => sim.durable(ren(d.value)).id);
      } else {
        const d = slot.durable!;
        buf[k++] = -1 - this.cached(this.durables, d.id, p, () => sim.durable(ren(d.value)).id);
      }
      buf[k++] = slot.clientUsed;
      const timers = slot.timers.map((t) => this.cached(this.timers, t.id, p, () => sim.timer(t.name, ren(t.event), t.delayMs))).sort(byKey);
      buf[k++] = timers.length;
      for (const t of timers) buf[k++] = t.id;
    }
    for (let from = 1; from <= n; from++) {
      for (let to = 1; to <= n; to++) {
        const ch = world.channels[channelIndex(n, inv[from - 1], inv[to - 1])];
        const msgs = ch.map((m) => this.cached(this.msgs, m.id, p, () => sim.msg(ren(m.msg))));
        if (sim.config.network !== 'fifo') msgs.sort(byKey);
        buf[k++] = msgs.length;
        for (const m of msgs) buf[k++] = m.id;
      }
    }
    let mask = 0;
    for (let i = 1; i <= n; i++) if ((world.partition >> (i - 1)) & 1) mask |= 1 << (rename(i) - 1);
    if (mask && !(mask & 1)) mask = ((1 << n) - 1) & ~mask;
    buf[k++] = mask;
    const u = world.used;
    buf[k++] = u.crashes;
    buf[k++] = u.drops;
    buf[k++] = u.duplicates;
    buf[k++] = u.partitions;
    const history = world.history
      .map((h) =>
        this.cached(this.notes, h, p, () => {
          const g = sim.notes.values[h];
          const node = rename(g.node);
          const note = ren(g.note);
          return sim.notes.id(node + '\u0001' + canonical(note), { node, note });
        }),
      )
      .sort((a, b) => a - b);
    for (const h of history) buf[k++] = h;
    return hashInts(buf, k);
  }
}
