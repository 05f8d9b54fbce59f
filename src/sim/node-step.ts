/**
 * One node's pure step: xstate's `transition()` on a snapshot rebuilt from (state value,
 * context), with the returned actions turned into plain effects. Results are memoized per
 * (node state, event): the function is pure, and node-local state spaces are far smaller than
 * the cluster's, so most cluster steps never re-run the machine.
 */
import { initialTransition, transition, type AnyStateMachine, type StateValue } from 'xstate';
import type { NodeId, NodeInput } from '../protocol.js';
import { canonical } from './canonical.js';
import { Interner } from './interner.js';

/**
 * What a machine's actions ask of its host. `ref` fields memoize the host's interned form:
 * effects are cached with the step that produced them, so each is interned once.
 */
export type Effect =
  | { kind: 'send'; to: NodeId | 'others'; msg: any; ref?: unknown }
  | { kind: 'note'; note: any; ref?: unknown }
  | { kind: 'timer'; id: string; event: { type: string }; delayMs: number; ref?: unknown }
  | { kind: 'cancel'; id: string };

/** A node's machine state, interned: equal states share one object and one id. */
export interface LocalState {
  id: number;
  /** Flattened state value: `leader`, `candidate.pre`. */
  state: string;
  value: StateValue;
  context: any;
}

export interface NodeStepResult {
  next: LocalState;
  effects: Effect[];
}

export function flattenValue(value: StateValue): string {
  if (typeof value === 'string') return value;
  return Object.entries(value)
    .map(([k, v]) => (v && (typeof v === 'string' || Object.keys(v).length) ? `${k}.${flattenValue(v)}` : k))
    .join(',');
}

/** Turns the actions xstate returns into effects a host executes (sends, notes, timers, cancels). */
export function effectsOf(actions: readonly any[]): Effect[] {
  const out: Effect[] = [];
  for (const a of actions) {
    if (a.type === 'xstate.emit') {
      const e = a.params.event;
      if (e.type === 'send') out.push({ kind: 'send', to: e.to, msg: e.msg });
      else if (e.type === 'note') out.push({ kind: 'note', note: e.note });
      else throw new Error(`machine emitted unknown event type ${JSON.stringify(e.type)} (expected send or note)`);
    } else if (a.type === 'xstate.raise') {
      if (a.params.delay === undefined) continue; // processed inside the macrostep
      out.push({ kind: 'timer', id: a.params.id ?? a.params.event.type, event: a.params.event, delayMs: a.params.delay });
    } else if (a.type === 'xstate.cancel') {
      out.push({ kind: 'cancel', id: a.params.sendId });
    }
  }
  return out;
}

export class NodeStepper {
  readonly states = new Interner<LocalState>();
  private readonly cache = new Map<string, NodeStepResult>();
  /** Node-level transitions reached, as `from|event|to` (for coverage). */
  readonly reached = new Set<string>();

  constructor(readonly machine: AnyStateMachine, private readonly cacheLimit = 2_000_000) {}

  /** The interned state with this value and context. */
  internState(value: StateValue, context: unknown): LocalState {
    const state = flattenValue(value);
    const key = state + '\u0001' + canonical(context);
    const candidate: LocalState = { id: this.states.size, state, value, context };
    return this.states.values[this.states.id(key, candidate)];
  }

  private check(snapshot: any, what: string): void {
    if (snapshot.status === 'error') throw new Error(`machine ${this.machine.id} failed on ${what}: ${snapshot.error}`);
  }

  /** The state a node starts in (or restarts in, with its durable context restored). */
  init(input: NodeInput): NodeStepResult {
    const key = 'init\u0001' + canonical(input);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const [snapshot, actions] = initialTransition(this.machine, input);
    this.check(snapshot, 'init');
    const result = { next: this.internState(snapshot.value, snapshot.context), effects: effectsOf(actions) };
    this.cache.set(key, result);
    return result;
  }

  /** Feeds one event to a node. `eventKey` must identify the event exactly. */
  step(local: LocalState, event: { type: string }, eventKey: string): NodeStepResult {
    const key = local.id + '\u0001' + eventKey;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const snapshot = this.machine.resolveState({ value: local.value, context: local.context });
    const [next, actions] = transition(this.machine, snapshot, event);
    this.check(next, event.type);
    const result = { next: this.internState(next.value, next.context), effects: effectsOf(actions) };
    this.reached.add(local.state + '|' + event.type + '|' + result.next.state);
    if (this.cache.size >= this.cacheLimit) this.cache.clear();
    this.cache.set(key, result);
    return result;
  }
}
