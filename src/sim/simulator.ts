/**
 * The pure cluster step. `step(world, choice)` feeds one event to one node through xstate's
 * `transition()` (memoized in NodeStepper) and applies the returned effects to a copy of the
 * world: sends go to the network model, delayed raises become pending timers, cancels remove
 * them, notes enter the ghost history.
 */
import type { CheckConfig, GhostNote, InFlight, NodeId, NodeView, Protocol, Variant, WorldView } from '../protocol.js';
import { canonical } from '../canonical.js';
import type { Choice } from './choice.js';
import { hashIntsInto, type Hash64 } from './hash64.js';
import { Interner } from './interner.js';
import { Symmetry } from './symmetry.js';
import { NodeStepper, type Effect, type LocalState } from './node-step.js';
import { channelIndex, connected, inFlightCount, type DurableRef, type MsgRef, type NodeSlot, type TimerRef, type World } from './world.js';
import { STEP_BROKEN } from '../step-property.js';
import { earlyTypes, notesEarly, sendsEarly, type EarlyTypes } from '../before-flush.js';

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
  private readonly lossFault: boolean;
  private readonly dupFault: boolean;
  private readonly crashFault: boolean;
  private readonly partitionFault: boolean;
  private readonly allMask: number;
  private readonly ghost: Set<string> | null;
  private readonly duplicating: boolean;
  /**
   * What the variant lets leave before the state of the step that emits it is on disk
   * (Variant.beforeFlush), when a crash can tell: null when it lets nothing, or crashes are off.
   */
  private readonly early: EarlyTypes | null;

  /**
   * `stableFingerprints`: fingerprints that simulators on different threads agree on, so no
   * symmetry reduction (its canonical form picks among interned ids, which differ by thread).
   */
  constructor(readonly protocol: Protocol, readonly variant: Variant, readonly config: CheckConfig, stableFingerprints = false) {
    this.n = config.nodes;
    const stepProperties = protocol.properties.filter((p) => p.step);
    this.stepper = new NodeStepper(variant.machine, undefined, stepProperties);
    this.faults = new Set(config.faults);
    this.lossFault = this.faults.has('loss');
    this.dupFault = this.faults.has('dup');
    this.crashFault = this.faults.has('crash');
    this.partitionFault = this.faults.has('partition');
    this.allMask = (1 << this.n) - 1;
    this.duplicating = config.network === 'unordered-duplicating';
    this.ghost = protocol.ghost ? new Set(stepProperties.length ? [...protocol.ghost, STEP_BROKEN] : protocol.ghost) : null;
    this.early = this.crashFault ? earlyTypes(variant) : null;
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
      hashHi: 0,
      hashLo: 0,
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
    this.rehash(world);
    return { world, records };
  }

  /** Every choice enabled in `world`, in a fixed order (replays depend on it). */
  enabled(world: World): Choice[] {
    const out: Choice[] = [];
    this.enabledInto(world, out);
    return out;
  }

  /**
   * `enabled` into an array kept for reuse: its first entries are overwritten and their count
   * returned; entries past it are left as they were (cutting the array's length would give up
   * its storage, and the next world would allocate it again).
   */
  enabledInto(world: World, out: Choice[]): number {
    let k = 0;
    const { n } = this;
    const net = this.config.network;
    for (let from = 1; from <= n; from++) {
      for (let to = 1; to <= n; to++) {
        const ch = world.channels[channelIndex(n, from, to)];
        if (ch.length === 0 || world.nodes[to - 1].local === null) continue;
        const last = net === 'fifo' ? 1 : ch.length;
        for (let i = 0; i < last; i++) {
          if (i > 0 && ch[i].id === ch[i - 1].id) continue;
          // One choice object per (message, channel), shared by every world that offers it.
          const deliveries = (this.deliveries[ch[i].id] ??= []);
          out[k++] = deliveries[from * (n + 1) + to] ??= { kind: 'deliver', from, to, msg: ch[i] };
        }
      }
    }
    for (let id = 1; id <= n; id++) {
      const slot = world.nodes[id - 1];
      if (slot.local === null) continue;
      for (let t = 0; t < slot.timers.length; t++) out[k++] = { kind: 'timer', node: id, timer: slot.timers[t] };
      if (this.protocol.clients) {
        const view = this.nodeView(world, id);
        for (const event of this.protocol.clients(view, slot.clientUsed, this.config)) out[k++] = { kind: 'client', node: id, event };
      }
      if (this.protocol.spontaneous) {
        const moves = this.spontaneous(world, id);
        for (let m = 0; m < moves.length; m++) out[k++] = moves[m];
      }
    }
    return this.faultChoices(world, out, k);
  }

  /** Writes the fault choices enabled in `world` into `out` from index `k`; returns the index past them. */
  private faultChoices(world: World, out: Choice[], k: number): number {
    const { n, config } = this;
    const { used } = world;
    const lossy = this.lossFault && used.drops < config.maxDrops;
    const dup = this.dupFault && used.duplicates < config.maxDuplicates && config.network !== 'unordered-duplicating';
    if (lossy || dup) {
      for (let c = 0; c < world.channels.length; c++) {
        const ch = world.channels[c];
        const from = Math.floor(c / n) + 1;
        const to = (c % n) + 1;
        const last = config.network === 'fifo' ? Math.min(1, ch.length) : ch.length;
        for (let i = 0; i < last; i++) {
          if (i > 0 && ch[i].id === ch[i - 1].id) continue;
          if (lossy) out[k++] = { kind: 'drop', from, to, msg: ch[i] };
          if (dup) out[k++] = { kind: 'duplicate', from, to, msg: ch[i] };
        }
      }
    }
    if (this.crashFault) {
      for (let id = 1; id <= n; id++) {
        const up = world.nodes[id - 1].local !== null;
        if (up && used.crashes < config.maxCrashes) {
          out[k++] = { kind: 'crash', node: id };
          // Its newest state may not be on disk yet: the crash can also land before that flush.
          if (world.nodes[id - 1].durable !== null) out[k++] = { kind: 'crash', node: id, lost: true };
        }
        if (!up) out[k++] = { kind: 'restart', node: id };
      }
    }
    if (this.partitionFault) {
      if (world.partition === 0 && used.partitions < config.maxPartitions) {
        // Side A always holds node 1, so each split is listed once.
        for (let mask = 1; mask < this.allMask; mask += 2) out[k++] = { kind: 'partition', sideA: mask };
      }
      if (world.partition !== 0) out[k++] = { kind: 'heal' };
    }
    return k;
  }

  /** The world after `choice`; `world` is not modified. */
  step(world: World, choice: Choice): { world: World; record: StepRecord } {
    return this.advance(world, choice, true) as { world: World; record: StepRecord };
  }

  /** The world after `choice`, without the record of what happened (the explorer's hot path). */
  successor(world: World, choice: Choice): World {
    // On a duplicating network a delivery leaves the message in flight: when the receiver is
    // known to ignore it (a memoized step to the same state, with no effect), nothing changes.
    if (choice.kind === 'deliver' && this.duplicating) {
      const local = world.nodes[choice.to - 1].local!;
      const memo = this.stepper.memo(local, this.deliveryEvent(choice.msg, choice.from));
      if (memo && memo.next === local && memo.effects.length === 0) return world;
    }
    return this.advance(world, choice, false).world;
  }

  private advance(world: World, choice: Choice, recorded: boolean): { world: World; record: StepRecord | null } {
    // Channels are copied only when the step changes one (see writableChannels).
    const next: World = {
      nodes: world.nodes.slice(),
      channels: world.channels,
      history: world.history,
      partition: world.partition,
      used: world.used,
      hashHi: world.hashHi,
      hashLo: world.hashLo,
    };
    this.parentChannels = world.channels;
    const { n } = this;
    let record: StepRecord | null = null;
    switch (choice.kind) {
      case 'deliver': {
        if (this.config.network !== 'unordered-duplicating') this.removeMessage(next, choice.from, choice.to, choice.msg);
        record = this.feed(next, choice.to, this.deliveryEvent(choice.msg, choice.from), choice, recorded);
        break;
      }
      case 'timer': {
        const slot = next.nodes[choice.node - 1];
        next.nodes[choice.node - 1] = { ...slot, timers: without(slot.timers, choice.timer) };
        const eventId = (this.timerEvents[choice.timer.id] ??= this.stepper.eventId('t' + choice.timer.id));
        record = this.feed(next, choice.node, eventId, choice, recorded);
        break;
      }
      case 'client': {
        const slot = next.nodes[choice.node - 1];
        if (!choice.spontaneous) next.nodes[choice.node - 1] = { ...slot, clientUsed: slot.clientUsed + 1 };
        record = this.feed(next, choice.node, this.clientEvent(choice.event), choice, recorded);
        break;
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
        const durable = choice.lost ? slot.durable! : this.diskOf(slot.local!);
        next.nodes[choice.node - 1] = { local: null, durable, timers: [], clientUsed: slot.clientUsed };
        const channels = this.writableChannels(next);
        for (let from = 1; from <= n; from++) channels[channelIndex(n, from, choice.node)] = [];
        next.used = { ...world.used, crashes: world.used.crashes + 1 };
        // No crash left: what the disks lag behind can no longer be told apart.
        if (next.used.crashes >= this.config.maxCrashes) {
          for (let i = 0; i < n; i++) {
            const other = next.nodes[i];
            if (other.local !== null && other.durable !== null) next.nodes[i] = { ...other, durable: null };
          }
        }
        break;
      }
      case 'restart': {
        const slot = next.nodes[choice.node - 1];
        const { next: local, effects } = this.stepper.init({ id: choice.node, n, restored: slot.durable?.value });
        next.nodes[choice.node - 1] = { local: null, durable: null, timers: [], clientUsed: slot.clientUsed };
        record = recorded ? this.record(choice, choice.node, undefined, undefined, local, effects) : null;
        this.apply(next, choice.node, local, effects, record);
        break;
      }
      case 'partition': {
        next.partition = choice.sideA;
        next.used = { ...world.used, partitions: world.used.partitions + 1 };
        const channels = this.writableChannels(next);
        for (let from = 1; from <= n; from++) {
          for (let to = 1; to <= n; to++) if (!connected(next, from, to)) channels[channelIndex(n, from, to)] = [];
        }
        break;
      }
      case 'heal':
        next.partition = 0;
        break;
    }
    this.rehashChanges(world, next);
    if (recorded && !record) record = { choice, sends: [], notes: [], effects: [] };
    return { world: next, record };
  }

  /**
   * Node-step event ids (NodeStepper.eventId), memoized here rather than on the interned refs,
   * which stay plain data: of a message delivered from a node, by (message id, sender); of a
   * timer, by timer id; of a client event, per event object (the protocol's moves are cached).
   */
  private deliveryEvent(msg: MsgRef, from: NodeId): number {
    const at = msg.id * (this.n + 1) + from;
    let id = this.deliveryEvents[at];
    if (id === undefined) this.deliveryEvents[at] = id = this.stepper.eventId('m' + msg.id + 'f' + from);
    return id;
  }

  private clientEvent(event: { type: string }): number {
    let id = this.clientEvents.get(event);
    if (id === undefined) this.clientEvents.set(event, (id = this.stepper.eventId('c' + canonical(event))));
    return id;
  }

  private readonly deliveryEvents: number[] = [];
  private readonly timerEvents: number[] = [];
  private readonly clientEvents = new WeakMap<object, number>();
  /** deliveries[message id][from * (n + 1) + to]: the choice delivering that message from → to, made once. */
  private readonly deliveries: Choice[][] = [];

  /** The channels of the world being built by `advance`, copied from its parent's on the first write. */
  private writableChannels(world: World): MsgRef[][] {
    if (world.channels === this.parentChannels) world.channels = world.channels.slice();
    return world.channels;
  }

  private parentChannels: MsgRef[][] | null = null;

  /** The event a choice feeds to its node. */
  private eventOf(choice: Choice): { type: string } {
    switch (choice.kind) {
      case 'deliver':
        return { ...choice.msg.msg, from: choice.from };
      case 'timer':
        return choice.timer.event;
      case 'client':
        return choice.event;
      default:
        throw new Error(`no event for a ${choice.kind} choice`);
    }
  }

  /** Feeds node `id` the event of `choice`; the event object is built only when the step is not memoized or is recorded. */
  private feed(world: World, id: NodeId, eventId: number, choice: Choice, recorded: boolean): StepRecord | null {
    const local = world.nodes[id - 1].local!;
    const memo = this.stepper.memo(local, eventId);
    const event = memo && !recorded ? undefined : this.eventOf(choice);
    const { next, effects } = memo ?? this.stepper.run(local, event!, eventId);
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
    for (let x = 0; x < effects.length; x++) {
      const e = effects[x];
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
          timers = withoutNamed(timers, e.id);
          timers.push(t);
          timers.sort(byKey);
          break;
        }
        case 'cancel':
          timers = withoutNamed(timers, e.id);
          break;
      }
    }
    const disk = this.early ? this.diskAfter(world, slot, local, effects) : null;
    // A node left as it was keeps its slot: the world's hash then skips it.
    if (local === slot.local && timers === slot.timers && slot.durable === disk) return;
    world.nodes[id - 1] = { local, durable: disk, timers, clientUsed: slot.clientUsed };
  }

  /**
   * What an up node's disk holds after a step, when it may lag behind the node's state: the
   * durable part of the state before the first step since the last flush that changed it, or
   * null when the disk holds the newest. A step waits for its flush (the host's rule) when it
   * lets anything leave that the variant does not let leave early; one that lets only such
   * things leave, or nothing at all, starts no flush the host waits for, so a crash may still
   * find the older state on disk (crash choice `lost`). Node restarts and the first step of a
   * run have nothing before them.
   */
  private diskAfter(world: World, slot: NodeSlot, local: LocalState, effects: readonly Effect[]): DurableRef | null {
    const before = slot.local;
    if (before === null || world.used.crashes >= this.config.maxCrashes) return null;
    const early = this.early!;
    for (const e of effects) {
      if (e.kind === 'send' ? !sendsEarly(early, e.msg) : e.kind === 'note' && !notesEarly(early, e.note) && (e.note as { type?: string })?.type !== STEP_BROKEN) return null;
    }
    if (slot.durable !== null) return slot.durable;
    const was = this.diskOf(before);
    return was === this.diskOf(local) ? null : was;
  }

  /** The durable part of a node state, interned (memoized per state). */
  private diskOf(local: LocalState): DurableRef {
    return (this.disks[local.id] ??= this.durable(this.variant.durable(local.context)));
  }

  private readonly disks: DurableRef[] = [];

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
      this.writableChannels(world)[c] = ch.concat(ref);
      return;
    }
    let i = 0;
    while (i < ch.length && ch[i].key < ref.key) i++;
    if (this.config.network === 'unordered-duplicating' && ch[i] === ref) return;
    this.writableChannels(world)[c] = ch.slice(0, i).concat(ref, ch.slice(i));
  }

  private removeMessage(world: World, from: NodeId, to: NodeId, ref: MsgRef): void {
    const c = channelIndex(this.n, from, to);
    const ch = world.channels[c];
    const i = ch.indexOf(ref);
    this.writableChannels(world)[c] = ch.slice(0, i).concat(ch.slice(i + 1));
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
      for (let i = 0; i < world.nodes.length; i++) {
        const slot = world.nodes[i];
        if (slot.local && round(slot.local.context) > this.config.maxRound) return 'round';
      }
    }
    return undefined;
  }

  /**
   * Canonical 64-bit fingerprint: every node, timer, message, budget and note, each interned
   * part by the 64-bit hash of its canonical key (so every thread and process agrees); with
   * symmetry on, the smallest over every renaming of node ids. Without symmetry it is kept in the
   * world: each lane is the sum (mod 2^32) of one hash per part (a node, a non-empty channel, the
   * rest), each hash covering the part's position and content, as in Zobrist hashing; a step
   * subtracts the hashes of the parts it replaced and adds those of their replacements.
   */
  fingerprint(world: World): Hash64 {
    if (this.symmetry) return this.symmetry.fingerprint(world);
    return { hi: world.hashHi >>> 0, lo: world.hashLo >>> 0 };
  }

  /** True when `h` (as `peek` returns it) is `world`'s own fingerprint: the step leaves the world as it is. */
  same(world: World, h: Hash64): boolean {
    return h.hi === world.hashHi >>> 0 && h.lo === world.hashLo >>> 0 && !this.symmetry;
  }

  /** Sets the world's hash from all of its parts. */
  private rehash(world: World): void {
    let hi = 0;
    let lo = 0;
    for (let i = 0; i < this.n; i++) {
      this.hashSlot(i, world.nodes[i]);
      hi += this.lanes[0];
      lo += this.lanes[1];
    }
    for (let c = 0; c < world.channels.length; c++) {
      if (!world.channels[c].length) continue;
      this.hashChannel(c, world.channels[c]);
      hi += this.lanes[0];
      lo += this.lanes[1];
    }
    this.hashRest(world);
    world.hashHi = (hi + this.lanes[0]) | 0;
    world.hashLo = (lo + this.lanes[1]) | 0;
  }

  /** Updates `after`'s hash from `before`'s: only the parts `advance` replaced (new objects) are rehashed. */
  private rehashChanges(before: World, after: World): void {
    let hi = before.hashHi;
    let lo = before.hashLo;
    const { lanes } = this;
    for (let i = 0; i < this.n; i++) {
      const was = before.nodes[i];
      const now = after.nodes[i];
      if (was === now) continue;
      this.hashSlot(i, was);
      hi -= lanes[0];
      lo -= lanes[1];
      this.hashSlot(i, now);
      hi += lanes[0];
      lo += lanes[1];
    }
    if (before.channels !== after.channels) {
      for (let c = 0; c < after.channels.length; c++) {
        const was = before.channels[c];
        const now = after.channels[c];
        if (was === now) continue;
        if (was.length) {
          this.hashChannel(c, was);
          hi -= lanes[0];
          lo -= lanes[1];
        }
        if (now.length) {
          this.hashChannel(c, now);
          hi += lanes[0];
          lo += lanes[1];
        }
      }
    }
    if (before.history !== after.history || before.partition !== after.partition || before.used !== after.used) {
      this.hashRest(before);
      hi -= lanes[0];
      lo -= lanes[1];
      this.hashRest(after);
      hi += lanes[0];
      lo += lanes[1];
    }
    after.hashHi = hi | 0;
    after.hashLo = lo | 0;
  }

  /** Scratch for a part's hash (hi, lo). */
  private readonly lanes = new Int32Array(2);

  /** Room for `ints` more numbers in the scratch buffer. */
  private room(ints: number): Int32Array<ArrayBufferLike> {
    if (this.buf.length < ints) this.buf = new Int32Array(Math.max(ints, this.buf.length * 2));
    return this.buf;
  }

  private hashSlot(i: number, slot: NodeSlot): void {
    this.hashNode(i, slot.local, slot.durable, slot.clientUsed, slot.timers);
  }

  private hashNode(i: number, local: LocalState | null, durable: DurableRef | null, clientUsed: number, timers: TimerRef[]): void {
    // The common slot (up, no timer, no client request counted) by (node, state) from a table.
    if (local && clientUsed === 0 && timers.length === 0 && durable === null) {
      const table = (this.plainSlots[i] ??= []);
      const at = 3 * local.id;
      while (table.length <= at) table.push(0, 0, 0);
      if (table[at] === 0) {
        this.hashNodeFully(i, local, durable, clientUsed, timers);
        table[at] = 1;
        table[at + 1] = this.lanes[0];
        table[at + 2] = this.lanes[1];
      } else {
        this.lanes[0] = table[at + 1];
        this.lanes[1] = table[at + 2];
      }
      return;
    }
    this.hashNodeFully(i, local, durable, clientUsed, timers);
  }

  /** plainSlots[node index][3 state id ..]: (known, hi, lo), the hash of that node up in that state, with no timer and no client request counted. */
  private readonly plainSlots: number[][] = [];

  private hashNodeFully(i: number, local: LocalState | null, durable: DurableRef | null, clientUsed: number, timers: TimerRef[]): void {
    const buf = this.room(8 + 2 * timers.length);
    let k = 0;
    buf[k++] = PART_NODE + i;
    if (local) {
      buf[k++] = durable ? 2 : 1;
      buf[k++] = this.stepper.states.hashes[2 * local.id];
      buf[k++] = this.stepper.states.hashes[2 * local.id + 1];
      if (durable) {
        buf[k++] = this.durables.hashes[2 * durable.id];
        buf[k++] = this.durables.hashes[2 * durable.id + 1];
      }
    } else {
      buf[k++] = 0;
      buf[k++] = this.durables.hashes[2 * durable!.id];
      buf[k++] = this.durables.hashes[2 * durable!.id + 1];
    }
    buf[k++] = clientUsed;
    buf[k++] = timers.length;
    const hashes = this.timers.hashes;
    for (let t = 0; t < timers.length; t++) {
      buf[k++] = hashes[2 * timers[t].id];
      buf[k++] = hashes[2 * timers[t].id + 1];
    }
    hashIntsInto(buf, k, this.lanes);
  }

  private hashChannel(c: number, ch: MsgRef[]): void {
    this.hashChannelEdit(c, ch, -1, -1, null);
  }

  /** The hash of channel `c` holding `ch` without its message at `skip` (if >= 0) and with `ref` inserted before index `at` (if >= 0). */
  private hashChannelEdit(c: number, ch: MsgRef[], skip: number, at: number, ref: MsgRef | null): void {
    const buf = this.room(4 + 2 * ch.length);
    const messages = this.messages.hashes;
    let k = 0;
    buf[k++] = PART_CHANNEL + c;
    buf[k++] = ch.length + (skip >= 0 ? -1 : 0) + (at >= 0 ? 1 : 0);
    for (let i = 0; i <= ch.length; i++) {
      if (i === at) {
        buf[k++] = messages[2 * ref!.id];
        buf[k++] = messages[2 * ref!.id + 1];
      }
      if (i === ch.length) break;
      if (i === skip) continue;
      buf[k++] = messages[2 * ch[i].id];
      buf[k++] = messages[2 * ch[i].id + 1];
    }
    hashIntsInto(buf, k, this.lanes);
  }

  /**
   * The fingerprint of `successor(world, choice)`, computed without building it, when that is
   * simple: a delivery or client request whose node step is memoized and makes at most one send,
   * arms or cancels no timer and leaves the ghost history alone; null otherwise (and with
   * symmetry on). Most transitions reach a world seen before: this spares building them. The
   * object returned is overwritten by the next call.
   */
  peek(world: World, choice: Choice): Hash64 | null {
    if (this.symmetry) return null;
    let id: NodeId;
    let eventId: number;
    let counted = 0;
    if (choice.kind === 'deliver') {
      id = choice.to;
      eventId = this.deliveryEvent(choice.msg, choice.from);
    } else if (choice.kind === 'client') {
      id = choice.node;
      eventId = this.clientEvent(choice.event);
      if (!choice.spontaneous) counted = 1;
    } else return null;
    const slot = world.nodes[id - 1];
    const memo = this.stepper.memo(slot.local!, eventId);
    if (!memo) return null;
    let send: Extract<Effect, { kind: 'send' }> | null = null;
    for (let x = 0; x < memo.effects.length; x++) {
      const e = memo.effects[x];
      if (e.kind === 'send' && !send) send = e;
      else if (e.kind !== 'note' || !this.ghost || this.ghost.has(e.note?.type)) return null;
    }
    const { n, lanes } = this;
    let hi = world.hashHi;
    let lo = world.hashLo;
    // The delivered message leaves its channel, unless the network keeps it.
    let taken = -1;
    if (choice.kind === 'deliver' && !this.duplicating) {
      taken = channelIndex(n, choice.from, choice.to);
      const ch = world.channels[taken];
      this.hashChannel(taken, ch);
      hi -= lanes[0];
      lo -= lanes[1];
      if (ch.length > 1) {
        this.hashChannelEdit(taken, ch, ch.indexOf(choice.msg), -1, null);
        hi += lanes[0];
        lo += lanes[1];
      }
    }
    if (send) {
      const ref = (send.ref ??= this.msg(send.msg)) as MsgRef;
      for (let to = 1; to <= n; to++) {
        if (send.to === 'others' ? to === id : to !== send.to) continue;
        // As `send` and `addMessage` do.
        if ((world.nodes[to - 1].local === null && to !== id) || !connected(world, id, to)) continue;
        const c = channelIndex(n, id, to);
        if (c === taken) return null;
        const ch = world.channels[c];
        let at = ch.length;
        if (this.config.network !== 'fifo') {
          at = 0;
          while (at < ch.length && ch[at].key < ref.key) at++;
          if (this.duplicating && ch[at] === ref) continue;
        }
        if (ch.length) {
          this.hashChannel(c, ch);
          hi -= lanes[0];
          lo -= lanes[1];
        }
        this.hashChannelEdit(c, ch, -1, at, ref);
        hi += lanes[0];
        lo += lanes[1];
      }
    }
    // The node's slot, unless `apply` would keep it.
    const disk = this.early ? this.diskAfter(world, slot, memo.next, memo.effects) : null;
    if (memo.next !== slot.local || counted || disk !== slot.durable) {
      this.hashSlot(id - 1, slot);
      hi -= lanes[0];
      lo -= lanes[1];
      this.hashNode(id - 1, memo.next, disk, slot.clientUsed + counted, slot.timers);
      hi += lanes[0];
      lo += lanes[1];
    }
    const peeked = this.peeked;
    peeked.hi = hi >>> 0;
    peeked.lo = lo >>> 0;
    return peeked;
  }

  private readonly peeked: Hash64 = { hi: 0, lo: 0 };

  /** The partition, the budgets used and the ghost history (a set: the sum of one hash per note). */
  private hashRest(world: World): void {
    const buf = this.room(6);
    const u = world.used;
    buf[0] = PART_REST;
    buf[1] = world.partition;
    buf[2] = u.crashes;
    buf[3] = u.drops;
    buf[4] = u.duplicates;
    buf[5] = u.partitions;
    hashIntsInto(buf, 6, this.lanes);
    let hi = this.lanes[0];
    let lo = this.lanes[1];
    const notes = this.notes.hashes;
    for (let i = 0; i < world.history.length; i++) {
      buf[0] = PART_NOTE;
      buf[1] = notes[2 * world.history[i]];
      buf[2] = notes[2 * world.history[i] + 1];
      hashIntsInto(buf, 3, this.lanes);
      hi += this.lanes[0];
      lo += this.lanes[1];
    }
    this.lanes[0] = hi;
    this.lanes[1] = lo;
  }

  private buf: Int32Array<ArrayBufferLike> = new Int32Array(256);

  /**
   * A node's spontaneous moves depend on its state alone: asked once per (node, interned state),
   * as choices. (The first asking is a method of its own: its arrow function, inlined here, would
   * cost every call a context object.)
   */
  private spontaneous(world: World, id: NodeId): Choice[] {
    const byState = this.spontaneousMoves[id];
    const moves = byState === undefined ? undefined : byState[world.nodes[id - 1].local!.id];
    return moves === undefined ? this.askSpontaneous(world, id) : moves;
  }

  private askSpontaneous(world: World, id: NodeId): Choice[] {
    const moves = this.protocol.spontaneous!(this.nodeView(world, id), this.config).map((event): Choice => ({ kind: 'client', node: id, event, spontaneous: true }));
    (this.spontaneousMoves[id] ??= [])[world.nodes[id - 1].local!.id] = moves;
    return moves;
  }

  /** spontaneousMoves[node id][interned state id]: that node's moves in that state. */
  private readonly spontaneousMoves: Choice[][][] = [];

  /** Node views are cached per (node, interned state, client requests): worlds share them. */
  private readonly nodeViews = new Map<number, NodeView>();
  /** Ghost histories are shared between a world and its successors: so are their views. */
  private readonly historyViews = new WeakMap<number[], GhostNote[]>();
  private lastHistory: number[] | null = null;
  private lastHistoryView: GhostNote[] | undefined;

  nodeView(world: World, id: NodeId): NodeView {
    const slot = world.nodes[id - 1];
    const requests = slot.clientUsed;
    // (node, state, client requests): requests past 63 share a key, so they get a view of their own.
    const key = (slot.local ? slot.local.id * 64 + id : -(slot.durable!.id * 64 + id) - 1) * 64 + Math.min(requests, 63);
    let view = requests < 63 ? this.nodeViews.get(key) : undefined;
    if (!view) {
      view = slot.local
        ? { id, state: slot.local.state, context: slot.local.context, up: true, requests }
        : { id, state: 'down', context: slot.durable!.value, up: false, requests };
      if (requests < 63) this.nodeViews.set(key, view);
    }
    return view;
  }

  /**
   * What properties read of `world`. `scratch`: one view object reused by every call (the
   * explorer's judge reads it and lets it go before the next world): no allocation per world.
   */
  view(world: World, scratch = false): WorldView {
    const nodes: NodeView[] = scratch ? this.scratchNodes : new Array(this.n);
    for (let id = 1; id <= this.n; id++) nodes[id - 1] = this.nodeView(world, id);
    let history = world.history === this.lastHistory ? this.lastHistoryView : this.historyViews.get(world.history);
    if (!history) {
      history = this.historyView(world.history);
      this.historyViews.set(world.history, history);
    }
    this.lastHistory = world.history;
    this.lastHistoryView = history;
    let quiescent = true;
    for (let c = 0; c < world.channels.length && quiescent; c++) quiescent = world.channels[c].length === 0;
    for (let i = 0; i < this.n && quiescent; i++) quiescent = world.nodes[i].timers.length === 0;
    if (!scratch) return new LazyWorldView(this.n, nodes, history, quiescent, world.channels);
    const view = (this.scratchView ??= new LazyWorldView(this.n, nodes, history, quiescent, world.channels));
    view.reset(history, quiescent, world.channels);
    return view;
  }

  /** The notes of a history (a method of its own: an arrow function here would cost `view` a context object per call). */
  private historyView(history: number[]): GhostNote[] {
    return history.map((h) => this.notes.values[h]);
  }

  private readonly scratchNodes: NodeView[] = [];
  private scratchView: LazyWorldView | undefined;
}

/** A WorldView whose messages in flight are listed only when a property reads them (a class: an object literal with a getter is slow to make). */
class LazyWorldView implements WorldView {
  private listed: InFlight[] | undefined;

  constructor(
    readonly n: number,
    readonly nodes: NodeView[],
    public history: GhostNote[],
    public quiescent: boolean,
    private channels: MsgRef[][],
  ) {}

  /** Now the view of another world (a view reused: see Simulator.view). */
  reset(history: GhostNote[], quiescent: boolean, channels: MsgRef[][]): void {
    this.history = history;
    this.quiescent = quiescent;
    this.channels = channels;
    this.listed = undefined;
  }

  get inFlight(): InFlight[] {
    if (!this.listed) {
      const { n } = this;
      this.listed = [];
      for (let c = 0; c < this.channels.length; c++) {
        for (const m of this.channels[c]) this.listed.push({ from: Math.floor(c / n) + 1, to: (c % n) + 1, msg: m.msg });
      }
    }
    return this.listed;
  }
}

/** `timers` without `timer` (a function of its own, so that no hot method holds a closure). */
function without(timers: TimerRef[], timer: TimerRef): TimerRef[] {
  const kept: TimerRef[] = [];
  for (let i = 0; i < timers.length; i++) if (timers[i] !== timer) kept.push(timers[i]);
  return kept;
}

/** `timers` without the one named `name`. */
function withoutNamed(timers: TimerRef[], name: string): TimerRef[] {
  const kept: TimerRef[] = [];
  for (let i = 0; i < timers.length; i++) if (timers[i].name !== name) kept.push(timers[i]);
  return kept;
}

const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** Tags that tell the parts of a world's hash apart (node i, channel c, the rest, a note). */
const PART_NODE = 0x1000000;
const PART_CHANNEL = 0x2000000;
const PART_REST = 0x3000000;
const PART_NOTE = 0x4000000;

