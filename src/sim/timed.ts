/**
 * Timed simulation: a virtual clock over the same pure `Simulator.step` the checkers explore.
 * Instead of choosing among enabled moves, the clock takes the earliest due one: a message is
 * delivered `latency(from → to)` ms after it was sent (FIFO links never reorder), a timer fires
 * `delayMs` after it was armed (jittered by the seeded RNG for timers the primitive names in
 * `timerJitter`), work ends after its duration, and client requests and faults happen at the
 * scenario's times. Ties are broken by scheduling order, so a (scenario, seed) pair replays
 * exactly, like a FoundationDB or TigerBeetle simulation run.
 */
import type { Protocol } from '../protocol.js';
import { createModel } from '../check/model.js';
import type { Choice } from './choice.js';
import { Simulator, type StepRecord } from './simulator.js';
import { Rng } from './timed-rng.js';
import type { LatencyMs, Scenario, ScenarioEvent, WorkItem } from './timed-scenario.js';
import { connected, type MsgRef, type World } from './world.js';
import { traceStep, type Trace, type TraceStep } from '../trace/trace.js';
import { canonical } from '../canonical.js';

type Due =
  | { kind: 'deliver'; from: number; to: number; ref: MsgRef; sentAtMs: number }
  | { kind: 'timer'; node: number; name: string }
  | { kind: 'event'; event: ScenarioEvent }
  | { kind: 'work-start'; item: WorkItem }
  | { kind: 'work-end'; item: WorkItem; span: number };

interface Entry {
  atMs: number;
  seq: number;
  due: Due;
}

export interface TimedRun {
  trace: Trace;
  /** `always` properties broken at some step, with the time of the first break. */
  violations: { property: string; atMs: number }[];
  sim: Simulator;
  world: World;
}

/** Above this many steps a scenario is taken to be livelocked. */
const MAX_STEPS = 200_000;

export class TimedSimulation {
  readonly sim: Simulator;
  private world: World;
  private nowMs = 0;
  private seq = 0;
  private queue: Entry[] = [];
  /** Live timer entries by `node/name`: a fired or cancelled timer's entry is skipped. */
  private timers = new Map<string, Entry>();
  /** Last delivery time per FIFO link. */
  private lastDeliveryMs = new Map<string, number>();
  private readonly rng: Rng;
  private readonly steps: TraceStep[] = [];
  private readonly work: Trace['work'] = [];
  private readonly startedOnNote = new Set<WorkItem>();
  private readonly violations: TimedRun['violations'] = [];
  private readonly always;

  constructor(readonly protocol: Protocol, readonly scenario: Scenario, readonly seed = 1) {
    const model = createModel(protocol, {
      nodes: scenario.nodes,
      variant: scenario.variant,
      network: scenario.network,
      faults: [],
      params: scenario.params,
    });
    this.sim = new Simulator(protocol, model.variant, model.config);
    this.rng = new Rng(seed);
    this.always = protocol.properties.filter((p) => p.kind === 'always');
    const { world, records } = this.sim.initial();
    this.world = world;
    for (const r of records) this.afterStep(r, 'start');
    for (const event of scenario.events) this.schedule(event.atMs, { kind: 'event', event });
    for (const item of scenario.work) if (item.startAtMs !== undefined) this.schedule(item.startAtMs, { kind: 'work-start', item });
  }

  private schedule(atMs: number, due: Due): Entry {
    const entry = { atMs, seq: this.seq++, due };
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const e = this.queue[mid];
      if (e.atMs < atMs || (e.atMs === atMs && e.seq < entry.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, entry);
    return entry;
  }

  private draw(latency: LatencyMs): number {
    return typeof latency === 'number' ? latency : this.rng.int(latency.uniform[0], latency.uniform[1]);
  }

  private latencyMs(from: number, to: number): number {
    const { links, default: dflt } = this.scenario.latencyMs;
    return from === to ? 0 : this.draw(links[`${from}->${to}`] ?? dflt);
  }

  private timerDelayMs(name: string, delayMs: number): number {
    const factor = this.protocol.timerJitter?.[name];
    return factor && factor > 1 ? this.rng.int(delayMs, delayMs * factor) : delayMs;
  }

  /** Runs to the scenario's end (or until nothing is left to happen) and returns the trace. */
  run(): TimedRun {
    let count = 0;
    while (this.queue.length && this.queue[0].atMs <= this.scenario.untilMs) {
      const entry = this.queue.shift()!;
      if (entry.due.kind === 'timer' && this.timers.get(`${entry.due.node}/${entry.due.name}`) !== entry) continue;
      this.nowMs = entry.atMs;
      this.handle(entry.due);
      if (++count > MAX_STEPS) throw new Error(`scenario ${this.scenario.name} ran over ${MAX_STEPS} steps before ${this.scenario.untilMs} ms`);
    }
    const trace: Trace = {
      primitive: this.protocol.name,
      variant: this.sim.variant.name,
      n: this.sim.n,
      scenario: this.scenario.name,
      seed: this.seed,
      untilMs: this.scenario.untilMs,
      steps: this.steps,
      work: this.work,
    };
    return { trace, violations: this.violations, sim: this.sim, world: this.world };
  }

  private handle(due: Due): void {
    switch (due.kind) {
      case 'deliver': {
        const ch = this.world.channels[(due.from - 1) * this.sim.n + (due.to - 1)];
        if (!ch.includes(due.ref)) throw new Error(`timed simulation lost track of ${due.from}->${due.to} ${canonical(due.ref.msg)}`);
        this.take({ kind: 'deliver', from: due.from, to: due.to, msg: due.ref }, { sentAtMs: due.sentAtMs });
        return;
      }
      case 'timer': {
        this.timers.delete(`${due.node}/${due.name}`);
        const timer = this.world.nodes[due.node - 1].timers.find((t) => t.name === due.name);
        if (timer) this.take({ kind: 'timer', node: due.node, timer });
        return;
      }
      case 'work-start':
        this.work.push({ node: due.item.node, label: due.item.label, startMs: this.nowMs });
        this.schedule(this.nowMs + due.item.durationMs, { kind: 'work-end', item: due.item, span: this.work.length - 1 });
        return;
      case 'work-end':
        this.work[due.span].endMs = this.nowMs;
        if (due.item.then) this.client(due.item.node, due.item.then);
        return;
      case 'event':
        this.fault(due.event);
        return;
    }
  }

  private client(target: number | { state: string }, event: { type: string }): void {
    let node: number | undefined;
    if (typeof target === 'number') node = this.world.nodes[target - 1].local ? target : undefined;
    else {
      for (let id = 1; id <= this.sim.n && node === undefined; id++) {
        const local = this.world.nodes[id - 1].local;
        if (local && (local.state === target.state || local.state.startsWith(target.state + '.'))) node = id;
      }
    }
    if (node === undefined) {
      const why = typeof target === 'number' ? `node ${target} is down` : `no node is in state ${target.state}`;
      this.steps.push({ atMs: this.nowMs, kind: 'client', event, sends: [], notes: [], unserved: why });
      return;
    }
    this.take({ kind: 'client', node, event });
  }

  private fault(event: ScenarioEvent): void {
    if ('client' in event) return this.client(event.node, event.client);
    if ('partition' in event) {
      let mask = 0;
      for (const id of event.partition[0]) mask |= 1 << (id - 1);
      this.take({ kind: 'partition', sideA: mask });
      this.queue = this.queue.filter((e) => e.due.kind !== 'deliver' || connected(this.world, e.due.from, e.due.to));
      return;
    }
    if ('heal' in event) {
      if (this.world.partition !== 0) this.take({ kind: 'heal' });
      return;
    }
    const id = 'crash' in event ? event.crash : event.restart;
    const up = this.world.nodes[id - 1].local !== null;
    if ('crash' in event && up) {
      this.take({ kind: 'crash', node: id });
      this.queue = this.queue.filter((e) => !(e.due.kind === 'deliver' && e.due.to === id));
      for (const key of [...this.timers.keys()]) if (key.startsWith(`${id}/`)) this.timers.delete(key);
    } else if ('restart' in event && !up) {
      this.take({ kind: 'restart', node: id });
    }
  }

  /** Steps the world with `choice` and schedules what the step caused. */
  private take(choice: Choice, extra: Partial<TraceStep> = {}): void {
    const { world, record } = this.sim.step(this.world, choice);
    this.world = world;
    this.afterStep(record, undefined, extra);
  }

  private afterStep(record: StepRecord, kind?: 'start', extra: Partial<TraceStep> = {}): void {
    const effects = record.effects;
    const node = record.node;
    const step = { ...traceStep(record, this.sim.n, this.nowMs), ...extra };
    if (kind) step.kind = kind;
    if (node !== undefined) {
      for (const e of effects) {
        if (e.kind === 'timer') {
          this.timers.set(`${node}/${e.id}`, this.schedule(this.nowMs + this.timerDelayMs(e.id, e.delayMs), { kind: 'timer', node, name: e.id }));
        } else if (e.kind === 'cancel') this.timers.delete(`${node}/${e.id}`);
      }
      for (const s of record.sends) {
        const reaches = (s.to === s.from || this.world.nodes[s.to - 1].local !== null) && connected(this.world, s.from, s.to);
        if (reaches) this.deliverLater(s.from, s.to, s.msg);
      }
      for (const note of record.notes as { type?: string }[]) this.startWorkOn(node, note.type);
      this.gauges(step, node);
    }
    this.steps.push(step);
    this.judge();
  }

  private deliverLater(from: number, to: number, msg: unknown): void {
    let atMs = this.nowMs + this.latencyMs(from, to);
    if (this.scenario.network === 'fifo') {
      const link = `${from}->${to}`;
      atMs = Math.max(atMs, this.lastDeliveryMs.get(link) ?? 0);
      this.lastDeliveryMs.set(link, atMs);
    }
    this.schedule(atMs, { kind: 'deliver', from, to, ref: this.sim.msg(msg), sentAtMs: this.nowMs });
  }

  private startWorkOn(node: number, noteType: string | undefined): void {
    for (const item of this.scenario.work) {
      if (item.node !== node || item.startOnNote !== noteType || this.startedOnNote.has(item)) continue;
      this.startedOnNote.add(item);
      this.handle({ kind: 'work-start', item });
    }
  }

  private gauges(step: TraceStep, node: number): void {
    const { queueField, availableField } = this.scenario.metrics;
    const local = this.world.nodes[node - 1].local;
    if (queueField) {
      const q = local?.context?.[queueField];
      step.queue = Array.isArray(q) ? q.length : 0;
    }
    if (availableField) step.available = local !== null && local.context?.[availableField] != null;
    if (local && this.protocol.round) step.round = this.protocol.round(local.context);
  }

  private judge(): void {
    if (!this.always.length) return;
    const view = this.sim.view(this.world);
    for (const p of this.always) {
      if (!p.holds(view) && !this.violations.some((v) => v.property === p.name)) this.violations.push({ property: p.name, atMs: this.nowMs });
    }
  }
}

/** Runs one scenario of `protocol` with a seed. */
export function simulateTimed(protocol: Protocol, scenario: Scenario, seed = 1): TimedRun {
  return new TimedSimulation(protocol, scenario, seed).run();
}
