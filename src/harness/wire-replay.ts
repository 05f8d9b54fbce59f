/**
 * Conformance from the wire alone. The proxies saw what each node received and sent, the
 * harness's client saw its notes and answers; nobody saw its timers, nor exactly when it handled
 * what it received. So each node's observations are explained by a search over runs of the pure
 * machine (as TLA+ trace validation does with hidden steps): a received message is handled at
 * once or later, in order per sender; a pending timer may fire whenever the model has it armed;
 * a restart resumes from the durable part of the model's state (or of an earlier one, when the
 * steps since let nothing leave that waits for a flush). A sent message, a note or an
 * answer must be the next one the explained run produces on that link, to that client, for that
 * request: TCP keeps order, so an earlier one can only be missing if it was lost with a closed
 * connection (or produced while the link was down). The search keeps every distinct explanation
 * up to a small beam, preferring those that handle messages when they arrive.
 *
 * The result is, per node, the records of one explanation (`NodeRecord`s, the trace format of
 * schemas/README.md), which `checkConformance` and `checkTraceProperties` then judge as they judge
 * our own nodes' traces, and the first observation no explanation accounts for.
 */
import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import type { Protocol, Variant } from '../protocol.js';
import { canonical } from '../canonical.js';
import { allEarly, earlyTypes } from '../before-flush.js';
import { effectsOf, flattenValue } from '../machine-effects.js';
import type { NodeRecord } from '../runtime/trace-log.js';
import type { Msg, WireRecord } from './wire-record.js';

/** Hidden steps tried between two observations. */
export const HIDDEN_STEPS = 4;
/** Explanations kept per node. */
export const BEAM = 64;
/** Received messages a node may hold unhandled. */
const MAX_UNHANDLED = 4;

interface Item {
  from: number; // 0: the harness's client
  event: Msg;
  key: string;
}
interface Pending {
  m: string;
  /** Produced while the link was down, or on a connection that closed since: it may never show. */
  optional: boolean;
}
interface Trail {
  rec: NodeRecord;
  prev: Trail | null;
}
interface Cfg {
  up: boolean;
  snap: AnyMachineSnapshot | null;
  timers: Map<string, { event: Msg; delayMs: number }>;
  queue: Item[];
  out: Map<number, Pending[]>;
  /** Notes not yet seen by the harness's client; null while no client of the harness is connected. */
  notes: string[] | null;
  answers: { after: string; notes: Msg[] }[];
  trail: Trail | null;
  seq: number;
  cost: number;
  /**
   * What the disk holds when the newest state may not be on it yet (a step since the last one
   * that waited for its flush let nothing leave, or only what the variant lets leave early): a
   * restart may resume from it. Undefined: the disk holds the newest state.
   */
  disk?: object | null;
}

export interface WireDivergence {
  node: number;
  time: number;
  what: string;
}

export interface WireReplay {
  /** Per node, the records of the explanation kept (up to its divergence, if any). */
  records: NodeRecord[][];
  divergences: WireDivergence[];
}

const clone = (c: Cfg): Cfg => ({ ...c, timers: new Map(c.timers), queue: c.queue.slice(), out: new Map([...c.out].map(([k, v]) => [k, v.slice()])), notes: c.notes && c.notes.slice(), answers: c.answers.slice() });

function keyOf(c: Cfg): string {
  return JSON.stringify([
    c.up,
    c.snap ? [flattenValue(c.snap.value), canonical(c.snap.context)] : null,
    c.disk === undefined ? 0 : canonical(c.disk),
    [...c.timers.keys()].sort(),
    c.queue.map((q) => q.key),
    [...c.out].filter(([, v]) => v.length).map(([k, v]) => [k, v]),
    c.notes,
    c.answers.map((a) => canonical(a)),
  ]);
}

export function replayWire(protocol: Protocol, variant: Variant, n: number, wire: readonly WireRecord[]): WireReplay {
  const records: NodeRecord[][] = [];
  const divergences: WireDivergence[] = [];
  const memo = new Map<string, [AnyMachineSnapshot, readonly unknown[]]>();
  for (let id = 1; id <= n; id++) {
    const r = replayOne(protocol, variant, n, id, wire, memo);
    records.push(r.records);
    if (r.divergence) divergences.push(r.divergence);
  }
  return { records, divergences };
}

/** The machine's step, memoized: explanations share states, and `transition` is pure. */
function step(variant: Variant, snap: AnyMachineSnapshot, event: Msg, memo: Map<string, [AnyMachineSnapshot, readonly unknown[]]>): [AnyMachineSnapshot, readonly unknown[]] {
  const key = JSON.stringify(snap.value) + '\u0001' + canonical(snap.context) + '\u0001' + canonical(event);
  let r = memo.get(key);
  if (!r) {
    r = transition(variant.machine, snap, event as never) as never;
    memo.set(key, r!);
  }
  return r!;
}

function replayOne(protocol: Protocol, variant: Variant, n: number, id: number, wire: readonly WireRecord[], memo: Map<string, [AnyMachineSnapshot, readonly unknown[]]>): { records: NodeRecord[]; divergence: WireDivergence | null } {
  const others = Array.from({ length: n }, (_, i) => i + 1).filter((v) => v !== id);
  const linkUp = new Set<number>();
  /** When each link last came up; a step placed after that moment may really have run before it. */
  const linkUpAt = new Map<number, number>();
  let t = 0;
  /** The previous observation of this node: a hidden step placed now may have run any time since. */
  let windowStart = 0;

  /** One step of the machine; null when the machine fails on the event. */
  const apply = (c: Cfg, kind: NodeRecord['kind'], event: Msg | undefined, extra: { timer?: string; restored?: object | null } = {}): Cfg | null => {
    let result: [AnyMachineSnapshot, readonly unknown[]];
    try {
      result = (kind === 'init' ? initialTransition(variant.machine, { id, n, restored: extra.restored ?? undefined }) : step(variant, c.snap!, event!, memo)) as never;
    } catch {
      return null;
    }
    const [next, actions] = result;
    if (next.status === 'error') return null;
    const d = clone(c);
    const rec: NodeRecord = { node: id, seq: c.seq, time: t, kind, ...(event ? { event } : {}), ...(extra.timer ? { timer: extra.timer } : {}), ...(kind === 'init' ? { restored: extra.restored ?? null } : {}), ...(c.snap && kind !== 'init' ? { before: flattenValue(c.snap.value) } : {}), after: flattenValue(next.value), context: next.context, sends: [], notes: [], timers: [], cancels: [] };
    for (const e of effectsOf(actions)) {
      if (e.kind === 'send') {
        for (const to of e.to === 'others' ? others : [e.to as number]) {
          rec.sends.push({ to, msg: e.msg });
          const q = d.out.get(to) ?? [];
          q.push({ m: canonical(e.msg), optional: !linkUp.has(to) || (linkUpAt.get(to) ?? 0) > windowStart });
          d.out.set(to, q);
        }
      } else if (e.kind === 'note') {
        rec.notes.push(e.note);
        d.notes?.push(canonical(e.note));
      } else if (e.kind === 'timer') {
        rec.timers.push({ id: e.id, event: e.event, delayMs: e.delayMs, firesInMs: e.delayMs });
        d.timers.set(e.id, { event: e.event as Msg, delayMs: e.delayMs });
      } else {
        rec.cancels.push(e.id);
        d.timers.delete(e.id);
      }
    }
    if (kind === 'client') d.answers.push({ after: rec.after, notes: rec.notes });
    d.disk = kind === 'init' ? undefined : diskAfter(c, next, rec);
    d.snap = next;
    d.seq = c.seq + 1;
    d.trail = { rec, prev: c.trail };
    return d;
  };

  /**
   * What the disk holds after a step (as the host decides when a step waits for its flush):
   * everything, once a step let something leave that the variant does not let leave early (a
   * note counts only while a client of the harness listens); else what it held before the first
   * step since that changed the durable state.
   */
  const early = earlyTypes(variant);
  const diskAfter = (c: Cfg, next: AnyMachineSnapshot, rec: NodeRecord): object | null | undefined => {
    const waits = !allEarly(early, rec.sends.map((x) => x.msg), c.notes !== null ? rec.notes : []);
    if (waits || !c.snap) return undefined;
    if (c.disk !== undefined) return c.disk;
    const before = variant.durable(c.snap.context);
    return canonical(before) === canonical(variant.durable(next.context)) ? undefined : before;
  };

  /** The configurations one hidden step away: handle the oldest message of a sender, or fire a timer. */
  const hidden = (c: Cfg): Cfg[] => {
    if (!c.up || !c.snap) return [];
    const out: Cfg[] = [];
    const seen = new Set<number>();
    c.queue.forEach((item, i) => {
      if (seen.has(item.from)) return;
      seen.add(item.from);
      const rest = clone(c);
      rest.queue.splice(i, 1);
      const d = apply(rest, item.from ? 'peer' : 'client', item.event);
      if (d) out.push(d);
    });
    for (const [timer, { event }] of c.timers) {
      const rest = clone(c);
      rest.timers.delete(timer);
      const d = apply(rest, 'timer', event, { timer });
      if (d) out.push(d);
    }
    return out;
  };

  /** Explanations reaching `consume` (which returns the configuration after the observation, null for not yet, 'dead' for never). */
  const search = (beam: Cfg[], consume: (c: Cfg) => Cfg | null | 'dead', seenNext: Set<string>, describe: (c: Cfg) => string | null): Cfg[] => {
    const found: Cfg[] = [];
    let frontier = beam;
    // Explanations with the fewest hidden steps, and those with one more (a message handled after a timer rather than before).
    let limit = HIDDEN_STEPS;
    for (let depth = 0; depth <= limit && frontier.length; depth++) {
      const next: Cfg[] = [];
      const keys = new Set<string>();
      for (const c of frontier) {
        const r = consume(c);
        const what = describe(c);
        if (what) seenNext.add(what);
        if (r === 'dead') continue;
        if (r) {
          if (!found.length) limit = Math.min(HIDDEN_STEPS, depth + 1);
          found.push(r);
          continue;
        }
        if (depth < HIDDEN_STEPS) for (const d of hidden(c)) {
          const k = keyOf(d);
          if (!keys.has(k)) {
            keys.add(k);
            next.push(d);
          }
        }
      }
      frontier = next.slice(0, BEAM * 2);
    }
    return found;
  };

  /** Keeps the cheapest of each distinct explanation; a message left unhandled costs more the longer it waits. */
  const prune = (cfgs: Cfg[]): Cfg[] => {
    const byKey = new Map<string, Cfg>();
    for (const c of cfgs) {
      c.cost += c.queue.length;
      const k = keyOf(c);
      const old = byKey.get(k);
      if (!old || old.cost > c.cost) byKey.set(k, c);
    }
    return [...byKey.values()].sort((a, b) => a.cost - b.cost).slice(0, BEAM);
  };

  /** Pops `m` from a FIFO, skipping entries that may have been lost; null: not there yet; 'dead': an entry that must have come first did not. */
  const popFifo = (q: Pending[] | undefined, m: string): Pending[] | null | 'dead' => {
    if (!q) return null;
    for (let i = 0; i < q.length; i++) {
      if (q[i].m === m) return q.slice(i + 1);
      if (!q[i].optional) return 'dead';
    }
    return null;
  };

  let beam: Cfg[] = [{ up: false, snap: null, timers: new Map(), queue: [], out: new Map(), notes: null, answers: [], trail: null, seq: 0, cost: 0 }];
  const trailOf = (c: Cfg | undefined) => {
    const out: NodeRecord[] = [];
    for (let tr = c?.trail ?? null; tr; tr = tr.prev) out.push(tr.rec);
    return out.reverse();
  };
  const listed = (s: Set<string>) => (s.size ? [...s].slice(0, 3).join('; ') : 'nothing');

  /** Takes one observation into the beam; returns why no explanation accounts for it, or null. */
  const observe = (w: WireRecord & { node: number }, lazy: boolean): string | null => {
    windowStart = t;
    t = w.time;
    switch (w.kind) {
      case 'start': {
        // From the newest state, or from what the disk held if the newest may not have reached it.
        const restarts = beam.flatMap((c) => [c.snap ? variant.durable(c.snap.context) : null, ...(c.disk !== undefined ? [c.disk] : [])].map((restored) => ({ c, restored })));
        beam = prune(restarts.map(({ c, restored }) => apply({ ...clone(c), up: true, queue: [], out: new Map(), notes: null, answers: [], timers: new Map() }, 'init', undefined, { restored })).filter((c): c is Cfg => !!c));
        if (!beam.length) return ('the machine fails to start from the durable state');
        break;
      }
      case 'kill':
      case 'exit': {
        if (!beam.some((c) => c.up)) break;
        // It may have handled a message or a timer just before it died, its output lost with it.
        const last = beam.flatMap((c) => [c, ...hidden(c).map((d) => ({ ...d, cost: d.cost + 1 }))]);
        beam = prune(last.map((c) => ({ ...clone(c), up: false, queue: [], out: new Map(), notes: null, answers: [], timers: new Map() })));
        linkUp.clear();
        break;
      }
      case 'observe':
        beam = prune(beam.map((c) => ({ ...clone(c), notes: [] })));
        break;
      case 'link':
        if (w.up) {
          linkUp.add(w.to);
          linkUpAt.set(w.to, w.time);
        }
        else {
          linkUp.delete(w.to);
          beam = beam.map((c) => {
            const d = clone(c);
            d.out.set(w.to, (d.out.get(w.to) ?? []).map((p) => ({ ...p, optional: true })));
            return d;
          });
        }
        break;
      case 'invalid':
        return (`sent a frame the contract refuses (${w.reason}): ${w.line}`);
      case 'deliver':
      case 'request': {
        const item: Item = w.kind === 'deliver' ? { from: w.from, event: { ...w.msg, from: w.from }, key: '' } : { from: 0, event: w.request, key: '' };
        item.key = `${item.from}:${canonical(item.event)}`;
        const next: Cfg[] = [];
        for (const c of beam) {
          if (!c.up) {
            next.push(c);
            continue;
          }
          if (lazy) {
            next.push({ ...clone(c), queue: [...c.queue, item], cost: c.cost + 1 });
            continue;
          }
          // Handled now, after the messages of the same sender still waiting (they came first).
          let d: Cfg | null = c;
          for (let i; d && (i = d.queue.findIndex((q) => q.from === item.from)) >= 0; ) {
            const rest: Cfg = clone(d);
            const [first] = rest.queue.splice(i, 1);
            d = apply(rest, first.from ? 'peer' : 'client', first.event);
          }
          if (d) d = apply(d, item.from ? 'peer' : 'client', item.event);
          if (d) next.push(d);
          // Handling it later matters only if handling it now does something, or if a message still waiting may change what it does.
          const noop = d && !c.queue.length && d.trail!.prev === c.trail && d.trail!.rec.sends.length + d.trail!.rec.notes.length + d.trail!.rec.timers.length + d.trail!.rec.cancels.length === 0 && d.trail!.rec.before === d.trail!.rec.after && canonical(d.snap!.context) === canonical(c.snap!.context);
          if (!noop && c.queue.length < MAX_UNHANDLED) next.push({ ...clone(c), queue: [...c.queue, item], cost: c.cost + 1 });
        }
        beam = prune(next);
        if (!beam.length) return (`the machine cannot take ${item.key}`);
        break;
      }
      case 'send': {
        const m = canonical(w.msg);
        const seen = new Set<string>();
        const found = search(beam, (c) => {
          const q = popFifo(c.out.get(w.to), m);
          if (q === null || q === 'dead') return q;
          const d = clone(c);
          d.out.set(w.to, q);
          return d;
        }, seen, (c) => c.out.get(w.to)?.find((p) => !p.optional)?.m ?? null);
        if (!found.length) return (`sent ${m} to node ${w.to}; the model's next message to node ${w.to} here is ${listed(seen)}`);
        beam = prune(found);
        break;
      }
      case 'note': {
        const m = canonical(w.note);
        const seen = new Set<string>();
        const found = search(beam, (c) => {
          if (!c.notes) return 'dead';
          const i = c.notes.indexOf(m);
          if (i < 0) return null;
          return i === 0 ? { ...clone(c), notes: c.notes.slice(1) } : 'dead';
        }, seen, (c) => c.notes?.[0] ?? null);
        if (!found.length) return (`noted ${m}; the model's next note here is ${listed(seen)}`);
        beam = prune(found);
        break;
      }
      case 'answer': {
        const seen = new Set<string>();
        const told = w.error !== undefined ? `error ${JSON.stringify(w.error)}${w.notes.length ? ` with ${canonical(w.notes[0])}` : ''}` : `state ${w.state}, notes ${canonical(w.notes)}`;
        const found = search(beam, (c) => {
          const a = c.answers[0];
          if (!a) return null;
          const refusals = protocol.refusals ?? [];
          const refused = a.notes.find((x) => refusals.includes(x.type));
          const ok = w.error !== undefined ? (w.notes.length === 0 || (refused !== undefined && canonical(refused) === canonical(w.notes[0]))) : !refused && a.after === w.state && canonical(a.notes) === canonical(w.notes);
          return ok ? { ...clone(c), answers: c.answers.slice(1) } : 'dead';
        }, seen, (c) => (c.answers[0] ? `state ${c.answers[0].after}, notes ${canonical(c.answers[0].notes)}` : null));
        if (!found.length) return (`answered a request with ${told}; the model answers ${listed(seen)}`);
        beam = prune(found);
        break;
      }
    }
    return null;
  };

  // Messages are handled when they arrive, or a little later. When that fails (a node, or the
  // harness reading its frames, was held up while others went on), the last observations are
  // taken again with every message delivered in them left waiting, to be handled whenever an
  // explanation needs it.
  const mine = wire.filter((w): w is WireRecord & { node: number } => 'node' in w && w.node === id);
  const history: { beam: Cfg[]; linkUp: number[]; linkUpAt: [number, number][]; t: number }[] = [];
  for (let j = 0; j < mine.length; j++) {
    history[j] = { beam, linkUp: [...linkUp], linkUpAt: [...linkUpAt], t };
    const failure = observe(mine[j], false);
    if (!failure) continue;
    const failedAt = t;
    let recovered = false;
    for (const back of [4, 16, 64]) {
      const from = Math.max(0, j - back);
      const h = history[from];
      beam = h.beam;
      linkUp.clear();
      h.linkUp.forEach((x) => linkUp.add(x));
      linkUpAt.clear();
      h.linkUpAt.forEach(([k, v]) => linkUpAt.set(k, v));
      t = h.t;
      let k = from;
      while (k <= j && !observe(mine[k], true)) k++;
      if (k > j) {
        recovered = true;
        break;
      }
      if (from === 0) break;
    }
    if (!recovered) return { records: trailOf(history[j].beam[0]), divergence: { node: id, time: failedAt, what: failure } };
  }
  return { records: trailOf(beam[0]), divergence: null };
}
