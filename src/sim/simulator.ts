/**
 * The pure cluster step. `step(world, choice)` feeds one event to one node through xstate's
 * `transition()` (memoized in NodeStepper) and applies the returned effects to a copy of the
 * world: sends go to the network model, delayed raises become pending timers, cancels remove
 * them, notes enter the ghost history.
 */
import type { CheckConfig, GhostNote, InFlight, NodeId, NodeView, Protocol, Variant, WorldView } from '../protocol.js';
import { canonical } from '../canonical.js';
import type { Choice } from './choice.js';
import { hashInts, type Hash64 } from './hash64.js';
import { Interner } from './interner.js';
import { Symmetry } from './symmetry.js';
import { NodeStepper, type Effect, type LocalState } from './node-step.js';
import { channelIndex, connected, inFlightCount, type DurableRef, type MsgRef, type TimerRef, type World } from './world.js';

/** What one step did, for traces and counterexamples. */
export interface StepRecord {
  choice: Choice;
  node?: NodeId;
  event?: { type: string; from?: NodeId };
  before?: string;
  after?: string;
  sends: InFlight[];
  notes: unknown[];
  /** The node's effects, as its machine returned them (timers armed and cancelled, for timed hosts). */
  effects: readonly Effect[];
}

export const MAX_SYMMETRIC_NODES = 4;

export class Simulator {
  readonly n: number;
  readonly stepper: NodeStepper;
  readonly messages = new Interner<MsgRef>();
  readonly timers = new Interner<TimerRef>();
  readonly durables = new Interner<DurableRef>();
  readonly notes = new Interner<GhostNote>();
  private readonly faults: Set<string>;
  private readonly allMask: number;
  private readonly ghost: Set<string> | null;

  /**
   * `stableFingerprints`: fingerprint worlds by content hashes rather than interned ids, so
   * that simulators on different threads agree (no symmetry reduction then).
   */
  constructor(readonly protocol: Protocol, readonly variant: Variant, readonly config: CheckConfig, private readonly stableFingerprints = false) {
    this.n = config.nodes;
    this.stepper = new NodeStepper(variant.machine);
    this.faults = new Set(config.faults);
    this.allMask = (1 << this.n) - 1;
    this.ghost = protocol.ghost ? new Set(protocol.ghost) : null;
    // n! renamings per fingerprint: worth it up to 4 nodes (24), not at 5 (120).
    this.symmetry = !stableFingerprints && config.symmetry && protocol.symmetry && this.n <= MAX_SYMMETRIC_NODES ? new Symmetry(this, protocol.symmetry.idFields) : null;
  }

  private readonly symmetry: Symmetry | null;

  msg(msg: any): MsgRef {
    const key = canonical(msg);
    return this.messages.values[this.messages.id(key, { id: this.messages.size, key, msg })];
  }

  timer(name: string, event: { type: string }, delayMs: number): TimerRef {
    const key = name + '\u0001' + canonical(event) + '\u0001' + delayMs;
    return this.timers.values[this.timers.id(key, { id: this.timers.size, key, name, event, delayMs })];
  }

  durable(value: object): DurableRef {
    return this.durables.values[this.durables.id(canonical(value), { id: this.durables.size, value })];
  }

  initial(): { world: World; records: StepRecord[] } {
    const world: World = {
      nodes: [],
      channels: Array.from({ length: this.n * this.n }, () => []),
      history: [],
      partition: 0,
      used: { crashes: 0, drops: 0, duplicates: 0, partitions: 0 },
    };
    for (let id = 1; id <= this.n; id++) {
      world.nodes.push({ local: null, durable: null, timers: [], clientUsed: 0 });
    }
    const records: StepRecord[] = [];
    for (let id = 1; id <= this.n; id++) {
      const { next, effects } = this.stepper.init({ id, n: this.n });
      const record = this.record({ kind: 'restart', node: id }, id, undefined, undefined, next, effects);
      this.apply(world, id, next, effects, record);
      records.push(record);
    }
    return { world, records };
  }

  /** Every choice enabled in `world`, in a fixed order (replays depend on it). */
  enabled(world: World): Choice[] {
    const out: Choice[] = [];
    const { n } = this;
    const net = this.config.network;
    for (let from = 1; from <= n; from++) {
      for (let to = 1; to <= n; to++) {
        const ch = world.channels[channelIndex(n, from, to)];
        if (ch.length === 0 || world.nodes[to - 1].local === null) continue;
        const last = net === 'fifo' ? 1 : ch.length;
        for (let i = 0; i < last; i++) if (i === 0 || ch[i].id !== ch[i - 1].id) out.push({ kind: 'deliver', from, to, msg: ch[i] });
      }
    }
    for (let id = 1; id <= n; id++) {
      const slot = world.nodes[id - 1];
      if (slot.local === null) continue;
      for (const timer of slot.timers) out.push({ kind: 'timer', node: id, timer });
      if (this.protocol.clients) {
        const view = this.nodeView(world, id);
        for (const event of this.protocol.clients(view, slot.clientUsed, this.config)) out.push({ kind: 'client', node: id, event });
      }
      if (this.protocol.spontaneous) {
        for (const event of this.spontaneous(world, id)) out.push({ kind: 'client', node: id, event, spontaneous: true });
      }
    }
    this.faultChoices(world, out);
    return out;
  }

  private faultChoices(world: World, out: Choice[]): void {
    const { n, config } = this;
    const { used } = world;
    const lossy = this.faults.has('loss') && used.drops < config.maxDrops;
    const dup = this.faults.has('dup') && used.duplicates < config.maxDuplicates && config.network !== 'unordered-duplicating';
    if (lossy || dup) {
      for (let c = 0; c < world.channels.length; c++) {
        const ch = world.channels[c];
        const from = Math.floor(c / n) + 1;
        const to = (c % n) + 1;
        const last = config.network === 'fifo' ? Math.min(1, ch.length) : ch.length;
        for (let i = 0; i < last; i++) {
          if (i > 0 && ch[i].id === ch[i - 1].id) continue;
          if (lossy) out.push({ kind: 'drop', from, to, msg: ch[i] });
          if (dup) out.push({ kind: 'duplicate', from, to, msg: ch[i] });
        }
      }
    }
    if (this.faults.has('crash')) {
      for (let id = 1; id <= n; id++) {
        const up = world.nodes[id - 1].local !== null;
        if (up && used.crashes < config.maxCrashes) out.push({ kind: 'crash', node: id });
        if (!up) out.push({ kind: 'restart', node: id });
      }
    }
    if (this.faults.has('partition')) {
      if (world.partition === 0 && used.partitions < config.maxPartitions) {
        // Side A always holds node 1, so each split is listed once.
        for (let mask = 1; mask < this.allMask; mask += 2) out.push({ kind: 'partition', sideA: mask });
      }
      if (world.partition !== 0) out.push({ kind: 'heal' });
    }
  }

  /** The world after `choice`; `world` is not modified. */
  step(world: World, choice: Choice): { world: World; record: StepRecord } {
    return this.advance(world, choice, true) as { world: World; record: StepRecord };
  }

  /** The world after `choice`, without the record of what happened (the explorer's hot path). */
  successor(world: World, choice: Choice): World {
    return this.advance(world, choice, false).world;
  }

  private advance(world: World, choice: Choice, recorded: boolean): { world: World; record: StepRecord | null } {
    const next: World = {
      nodes: world.nodes.slice(),
      channels: world.channels.slice(),
      history: world.history,
      partition: world.partition,
      used: world.used,
    };
    const { n } = this;
    switch (choice.kind) {
      case 'deliver': {
        if (this.config.network !== 'unordered-duplicating') this.removeMessage(next, choice.from, choice.to, choice.msg);
        const event = { ...choice.msg.msg, from: choice.from };
        return { world: next, record: this.feed(next, choice.to, event, 'm' + choice.msg.id + 'f' + choice.from, choice, recorded) };
      }
      case 'timer': {
        const slot = next.nodes[choice.node - 1];
        next.nodes[choice.node - 1] = { ...slot, timers: slot.timers.filter((t) => t !== choice.timer) };
        return { world: next, record: this.feed(next, choice.node, choice.timer.event, 't' + choice.timer.id, choice, recorded) };
      }
      case 'client': {
        const slot = next.nodes[choice.node - 1];
        if (!choice.spontaneous) next.nodes[choice.node - 1] = { ...slot, clientUsed: slot.clientUsed + 1 };
        return { world: next, record: this.feed(next, choice.node, choice.event, 'c' + canonical(choice.event), choice, recorded) };
      }
      case 'drop':
        this.removeMessage(next, choice.from, choice.to, choice.msg);
        next.used = { ...world.used, drops: world.used.drops + 1 };
        break;
      case 'duplicate':
        this.addMessage(next, choice.from, choice.to, choice.msg);
        next.used = { ...world.used, duplicates: world.used.duplicates + 1 };
        break;
      case 'crash': {
        const slot = next.nodes[choice.node - 1];
        const durable = this.durable(this.variant.durable(slot.local!.context));
        next.nodes[choice.node - 1] = { local: null, durable, timers: [], clientUsed: slot.clientUsed };
        for (let from = 1; from <= n; from++) next.channels[channelIndex(n, from, choice.node)] = [];
        next.used = { ...world.used, crashes: world.used.crashes + 1 };
        break;
      }
      case 'restart': {
        const slot = next.nodes[choice.node - 1];
        const { next: local, effects } = this.stepper.init({ id: choice.node, n, restored: slot.durable?.value });
        next.nodes[choice.node - 1] = { local: null, durable: null, timers: [], clientUsed: slot.clientUsed };
        const record = recorded ? this.record(choice, choice.node, undefined, undefined, local, effects) : null;
        this.apply(next, choice.node, local, effects, record);
        return { world: next, record };
      }
      case 'partition':
        next.partition = choice.sideA;
        next.used = { ...world.used, partitions: world.used.partitions + 1 };
        for (let from = 1; from <= n; from++) {
          for (let to = 1; to <= n; to++) if (!connected(next, from, to)) next.channels[channelIndex(n, from, to)] = [];
        }
        break;
      case 'heal':
        next.partition = 0;
        break;
    }
    return { world: next, record: recorded ? { choice, sends: [], notes: [], effects: [] } : null };
  }

  private feed(world: World, id: NodeId, event: any, eventKey: string, choice: Choice, recorded: boolean): StepRecord | null {
    const local = world.nodes[id - 1].local!;
    const { next, effects } = this.stepper.step(local, event, eventKey);
    const record = recorded ? this.record(choice, id, event, local.state, next, effects) : null;
    this.apply(world, id, next, effects, record);
    return record;
  }

  private record(choice: Choice, node: NodeId, event: any, before: string | undefined, after: LocalState, effects: readonly Effect[]): StepRecord {
    return { choice, node, event, before, after: after.state, sends: [], notes: [], effects };
  }

  /** Applies a node's new state and effects to `world` (already a private copy), filling `record` when given. */
  private apply(world: World, id: NodeId, local: LocalState, effects: Effect[], record: StepRecord | null): void {
    const slot = world.nodes[id - 1];
    let timers = slot.timers;
    for (const e of effects) {
      switch (e.kind) {
        case 'send': {
          const ref = (e.ref ??= this.msg(e.msg)) as MsgRef;
          if (e.to === 'others') {
            for (let to = 1; to <= this.n; to++) if (to !== id) this.send(world, id, to, ref, record);
          } else this.send(world, id, e.to, ref, record);
          break;
        }
        case 'note':
          this.note(world, id, e, record);
          break;
        case 'timer': {
          const t = (e.ref ??= this.timer(e.id, e.event, e.delayMs)) as TimerRef;
          timers = timers.filter((x) => x.name !== e.id);
          timers.push(t);
          timers.sort(byKey);
          break;
        }
        case 'cancel':
          timers = timers.filter((x) => x.name !== e.id);
          break;
      }
    }
    world.nodes[id - 1] = { local, durable: null, timers, clientUsed: slot.clientUsed };
  }

  private send(world: World, from: NodeId, to: NodeId, ref: MsgRef, record: StepRecord | null): void {
    record?.sends.push({ from, to, msg: ref.msg });
    // A message to a crashed node or across the partition is lost, as on a real link.
    if (world.nodes[to - 1].local === null && to !== from) return;
    if (!connected(world, from, to)) return;
    this.addMessage(world, from, to, ref);
  }

  private note(world: World, node: NodeId, effect: Extract<Effect, { kind: 'note' }>, record: StepRecord | null): void {
    const note = effect.note;
    record?.notes.push(note);
    if (this.ghost && !this.ghost.has(note?.type)) return;
    // Interned once per (effect, node): a cached effect may be shared by nodes in equal states.
    const ids = (effect.ref ??= []) as number[];
    const id = (ids[node] ??= this.notes.id(node + '\u0001' + canonical(note), { node, note }));
    const h = world.history;
    let lo = 0;
    let hi = h.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (h[mid] < id) lo = mid + 1;
      else hi = mid;
    }
    if (h[lo] === id) return;
    const history = h.slice(0, lo).concat(id, h.slice(lo));
    world.history = this.protocol.ghostSummary ? this.summarize(history) : history;
  }

  /** The history reduced to the protocol's summary (a subset, kept sorted), memoized per history. */
  private summarize(history: number[]): number[] {
    const key = history.join(',');
    let kept = this.summaries.get(key);
    if (!kept) {
      const notes = history.map((h) => this.notes.values[h]);
      const chosen = new Set(this.protocol.ghostSummary!(notes));
      kept = history.filter((_, i) => chosen.has(notes[i]));
      this.summaries.set(key, kept);
    }
    return kept;
  }

  private readonly summaries = new Map<string, number[]>();

  private addMessage(world: World, from: NodeId, to: NodeId, ref: MsgRef): void {
    const c = channelIndex(this.n, from, to);
    const ch = world.channels[c];
    if (this.config.network === 'fifo') {
      world.channels[c] = ch.concat(ref);
      return;
    }
    let i = 0;
    while (i < ch.length && ch[i].key < ref.key) i++;
    if (this.config.network === 'unordered-duplicating' && ch[i] === ref) return;
    world.channels[c] = ch.slice(0, i).concat(ref, ch.slice(i));
  }

  private removeMessage(world: World, from: NodeId, to: NodeId, ref: MsgRef): void {
    const c = channelIndex(this.n, from, to);
    const ch = world.channels[c];
    const i = ch.indexOf(ref);
    world.channels[c] = ch.slice(0, i).concat(ch.slice(i + 1));
  }

  /** False when the world is past a bound and must not be expanded. */
  withinBounds(world: World): boolean {
    return this.boundPassed(world) === undefined;
  }

  /** The bound a world is past (so it must not be expanded), if any. */
  boundPassed(world: World): 'inFlight' | 'round' | undefined {
    if (inFlightCount(world) > this.config.maxInFlight) return 'inFlight';
    const round = this.protocol.round;
    if (round) {
      for (const slot of world.nodes) {
        if (slot.local && round(slot.local.context) > this.config.maxRound) return 'round';
      }
    }
    return undefined;
  }

  /**
   * Canonical 64-bit fingerprint: every node, timer, message, budget and note as interned ints
   * (with stable fingerprints, as hashes of their keys, so that every thread agrees); with
   * symmetry on, the smallest over every renaming of node ids.
   */
  fingerprint(world: World): Hash64 {
    if (this.symmetry) return this.symmetry.fingerprint(world);
    let k = 0;
    const push = (v: number) => {
      if (k >= this.buf.length) this.buf = growInto(this.buf, k);
      this.buf[k++] = v;
    };
    // An interned part: its id, or (stable fingerprints) the 64-bit hash of its key.
    const stable = this.stableFingerprints;
    const part = (interner: Interner<unknown>, id: number) => {
      if (!stable) return push(id);
      push(interner.hashes[2 * id]);
      push(interner.hashes[2 * id + 1]);
    };
    for (const slot of world.nodes) {
      push(slot.local ? 1 : 0);
      if (slot.local) part(this.stepper.states, slot.local.id);
      else part(this.durables, slot.durable!.id);
      push(slot.clientUsed);
      push(slot.timers.length);
      for (const t of slot.timers) part(this.timers, t.id);
    }
    for (const ch of world.channels) {
      push(ch.length);
      for (const m of ch) part(this.messages, m.id);
    }
    push(world.partition);
    const u = world.used;
    push(u.crashes);
    push(u.drops);
    push(u.duplicates);
    push(u.partitions);
    // The history is a set: ids are sorted; hashes must be sorted by themselves.
    const notes = this.notes.hashes;
    const history = stable ? world.history.map((h) => [notes[2 * h], notes[2 * h + 1]]).sort((a, b) => a[0] - b[0] || a[1] - b[1]).flat() : world.history;
    for (const h of history) push(h);
    return hashInts(this.buf, k);
  }

  private buf: Int32Array<ArrayBufferLike> = new Int32Array(256);

  /** A node's spontaneous moves depend on its state alone: asked once per (node, interned state). */
  private spontaneous(world: World, id: NodeId): { type: string }[] {
    const view = this.nodeView(world, id);
    let moves = this.spontaneousMoves.get(view);
    if (!moves) {
      moves = this.protocol.spontaneous!(view, this.config);
      this.spontaneousMoves.set(view, moves);
    }
    return moves;
  }

  private readonly spontaneousMoves = new Map<NodeView, { type: string }[]>();

  /** Node views are cached per (node, interned state): worlds share them. */
  private readonly nodeViews = new Map<number, NodeView>();
  /** Ghost histories are shared between a world and its successors: so are their views. */
  private readonly historyViews = new WeakMap<number[], GhostNote[]>();

  nodeView(world: World, id: NodeId): NodeView {
    const slot = world.nodes[id - 1];
    const key = slot.local ? slot.local.id * 64 + id : -(slot.durable!.id * 64 + id) - 1;
    let view = this.nodeViews.get(key);
    if (!view) {
      view = slot.local
        ? { id, state: slot.local.state, context: slot.local.context, up: true }
        : { id, state: 'down', context: slot.durable!.value, up: false };
      this.nodeViews.set(key, view);
    }
    return view;
  }

  view(world: World): WorldView {
    const nodes: NodeView[] = [];
    for (let id = 1; id <= this.n; id++) nodes.push(this.nodeView(world, id));
    let history = this.historyViews.get(world.history);
    if (!history) {
      history = world.history.map((h) => this.notes.values[h]);
      this.historyViews.set(world.history, history);
    }
    const n = this.n;
    let inFlight: InFlight[] | undefined;
    const quiescent = world.channels.every((c) => c.length === 0) && world.nodes.every((s) => s.timers.length === 0);
    return {
      n,
      nodes,
      history,
      quiescent,
      // Built only when a property reads it.
      get inFlight() {
        if (!inFlight) {
          inFlight = [];
          for (let c = 0; c < world.channels.length; c++) {
            for (const m of world.channels[c]) inFlight.push({ from: Math.floor(c / n) + 1, to: (c % n) + 1, msg: m.msg });
          }
        }
        return inFlight;
      },
    };
  }
}

const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

function growInto(buf: Int32Array<ArrayBufferLike>, used: number): Int32Array<ArrayBufferLike> {
  const bigger = new Int32Array(buf.length * 2);
  bigger.set(buf.subarray(0, used));
  return bigger;
}

