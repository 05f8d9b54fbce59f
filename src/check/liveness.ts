/**
 * The liveness phase after a prefix (TigerBeetle's VOPR does the same): a fair schedule that must
 * bring every `eventually` property to hold within `livenessSteps` steps. Fair: every message in
 * flight is delivered (oldest channel first), client requests are served, and timers fire in
 * order of a virtual deadline (delay, jittered per node as a host would randomize it).
 *
 * Fairness is explicit: it says which nodes the phase keeps down for good and how.
 * - none down: the partition heals and every crashed node restarts (the fault-free phase);
 * - `crash`: those nodes crash (if up) and never restart; the others restart;
 * - `partition`: those nodes are cut off by a partition that never heals;
 * - `rejoin`: those nodes are cut off until the others satisfy every property that tolerates
 *   them and have run a while after, then the partition heals (the seed's partition story).
 * With nodes down, only the properties that tolerate that many (`Property.tolerates`) are judged,
 * and they see the nodes kept down as down. Properties that assume reliable links and crash-stop
 * failures (`Property.reliable`) are judged only after a prefix that lost no message, cut no link
 * and crashed no node.
 */
import type { NodeId, NodeView, Property, Protocol, WorldView } from '../protocol.js';
import type { Choice } from '../sim/choice.js';
import type { Simulator, StepRecord } from '../sim/simulator.js';
import type { World } from '../sim/world.js';

export interface Fairness {
  /** Nodes kept down for good (or, with `rejoin`, until the others are stable). */
  down: NodeId[];
  how: 'crash' | 'partition' | 'rejoin';
}

export const FAULT_FREE: Fairness = { down: [], how: 'crash' };

export interface LivenessResult {
  /** The eventually-properties that never held during the phase (rejoin ones: at its end). */
  unmet: Property[];
  steps: StepRecord[];
  world: World;
}

/** One line, e.g. `node 2 crashed for good`, `nodes 1,3 cut off, then rejoining`. */
export function describeFairness(f: Fairness): string {
  if (!f.down.length) return 'every node up, every link healed';
  const who = `node${f.down.length > 1 ? 's' : ''} ${f.down.join(',')}`;
  return f.how === 'crash' ? `${who} crashed for good` : f.how === 'partition' ? `${who} cut off for good` : `${who} cut off, then rejoining`;
}

/** How many nodes a property tolerates down for good in a cluster of n. */
export const tolerated = (p: Property, n: number): number => (p.kind === 'eventually' && p.tolerates ? Math.max(0, p.tolerates(n)) : 0);

function subsets(n: number, k: number): NodeId[][] {
  const out: NodeId[][] = [];
  const pick = (from: number, chosen: NodeId[]) => {
    if (chosen.length === k) return void out.push(chosen);
    for (let id = from; id <= n; id++) pick(id + 1, [...chosen, id]);
  };
  pick(1, []);
  return out;
}

/**
 * Every fairness the protocol's properties ask to be judged under, besides the fault-free one:
 * each set of f nodes (f: the most any property tolerates) crashed for good, cut off for good,
 * and (when a property is judged on a rejoin) cut off then rejoining.
 */
export function fairnessChoices(protocol: Protocol, n: number): Fairness[] {
  const f = Math.max(0, ...protocol.properties.map((p) => tolerated(p, n)));
  if (f === 0) return [];
  const rejoin = protocol.properties.some((p) => p.rejoin && tolerated(p, n) >= f);
  const out: Fairness[] = [];
  for (const down of subsets(n, f)) {
    out.push({ down, how: 'crash' }, { down, how: 'partition' });
    if (rejoin) out.push({ down, how: 'rejoin' });
  }
  return out;
}

/** True when the world's past lost no message, cut no link and crashed no node. */
export const reliablePast = (world: World): boolean => world.used.drops === 0 && world.used.partitions === 0 && world.used.crashes === 0;

/** The eventually-properties a phase under `fairness` from `start` judges (rejoin ones apart). */
export function goalsUnder(protocol: Protocol, n: number, fairness: Fairness, start: World): { goals: Property[]; rejoin: Property[] } {
  const k = fairness.down.length;
  // A cut loses what was in flight across it: properties that assume reliable links are judged
  // with nodes crashed for good, not cut off.
  const judged = protocol.properties.filter((p) =>
    p.kind === 'eventually' && (k === 0 || tolerated(p, n) >= k) && (!p.reliable || (reliablePast(start) && (k === 0 || fairness.how === 'crash'))));
  return { goals: judged.filter((p) => !p.rejoin), rejoin: fairness.how === 'rejoin' ? judged.filter((p) => p.rejoin) : [] };
}

/** The view in which the nodes a fairness keeps down (or cut off) are down. */
export function viewUnder(view: WorldView, down: readonly NodeId[]): WorldView {
  if (!down.length) return view;
  const nodes = view.nodes.map((v): NodeView => (down.includes(v.id) && v.up ? { ...v, up: false } : v));
  return { n: view.n, nodes, history: view.history, quiescent: view.quiescent, get inFlight() { return view.inFlight; } };
}

/** Deterministic per-node jitter in [1, factor): distinct nodes time out at distinct moments. */
function jitter(sim: Simulator, node: NodeId, name: string): number {
  const factor = sim.protocol.timerJitter?.[name];
  if (!factor) return 1;
  return 1 + ((node * 37) % sim.n) / sim.n * (factor - 1);
}

/** The next choice of a fair schedule: deliveries, then client requests, then the earliest timer. */
export function fairChoice(sim: Simulator, choices: Choice[], due: Map<string, number>, now: number): { choice: Choice; now: number } | null {
  const deliver = choices.find((c) => c.kind === 'deliver');
  if (deliver) return { choice: deliver, now };
  const client = choices.find((c) => c.kind === 'client');
  if (client) return { choice: client, now };
  let best: Choice | null = null;
  let bestKey = '';
  let bestAt = Infinity;
  for (const c of choices) {
    if (c.kind !== 'timer') continue;
    const key = `${c.node}/${c.timer.name}`;
    let at = due.get(key);
    if (at === undefined) {
      at = now + c.timer.delayMs * jitter(sim, c.node, c.timer.name);
      due.set(key, at);
    }
    if (at < bestAt) {
      bestAt = at;
      bestKey = key;
      best = c;
    }
  }
  if (!best) return null;
  due.delete(bestKey);
  return { choice: best, now: bestAt };
}

const maskOf = (ids: readonly NodeId[]) => ids.reduce((m, id) => m | (1 << (id - 1)), 0);

/**
 * A fair phase from `start` under `fairness` (default: fault-free). `sometimes` properties met
 * along the way are removed from `sometimes`.
 */
export function livenessPhase(sim: Simulator, start: World, steps: number, sometimes?: Set<Property>, fairness: Fairness = FAULT_FREE): LivenessResult {
  const { goals, rejoin } = goalsUnder(sim.protocol, sim.n, fairness, start);
  const unmet = new Set(goals);
  const records: StepRecord[] = [];
  let world = start;
  const due = new Map<string, number>();
  let now = 0;
  let longest = 0;
  const apply = (choice: Choice) => {
    const r = sim.step(world, choice);
    world = r.world;
    records.push(r.record);
    // A re-armed timer starts over; a crashed node's timers are gone.
    for (const e of r.record.effects) if (e.kind === 'timer') due.delete(`${r.record.node}/${e.id}`);
  };
  const down = new Set(fairness.down);
  const cut = fairness.how !== 'crash' && down.size > 0;
  if (world.partition !== 0 && !(cut && world.partition === maskOf(fairness.down))) apply({ kind: 'heal' });
  if (fairness.how === 'crash') for (const id of down) if (world.nodes[id - 1].local !== null) apply({ kind: 'crash', node: id });
  for (let id = 1; id <= sim.n; id++) if (world.nodes[id - 1].local === null && !(fairness.how === 'crash' && down.has(id))) apply({ kind: 'restart', node: id });
  if (cut && world.partition === 0) apply({ kind: 'partition', sideA: maskOf(fairness.down) });
  const atCut = sim.view(world);
  let choices = sim.enabled(world);
  // Goals are judged at settled moments, with no client waiting and nothing to deliver (a
  // network that keeps every message always has something): a goal that holds only because
  // nothing has happened yet (nothing proposed) proves nothing.
  const settled = () => !choices.some((c) => c.kind === 'client' || (c.kind === 'deliver' && sim.config.network !== 'unordered-duplicating'));
  const judge = () => {
    const view = sim.view(world);
    if (sometimes && !down.size) for (const p of sometimes) if (p.holds(view)) sometimes.delete(p);
    if (!settled()) return;
    const seen = viewUnder(view, fairness.down);
    for (const p of unmet) if (p.holds(seen)) unmet.delete(p);
  };
  const next = (): boolean => {
    const picked = fairChoice(sim, choices, due, now);
    if (!picked) return false;
    now = picked.now;
    if (picked.choice.kind === 'timer') longest = Math.max(longest, picked.choice.timer.delayMs);
    apply(picked.choice);
    choices = sim.enabled(world);
    return true;
  };
  judge();
  let i = 0;
  for (; i < steps && unmet.size; i++) {
    if (!next()) break;
    judge();
  }
  if (!rejoin.length || unmet.size) return { unmet: [...unmet], steps: records, world };
  // The others are stable: keep the cut a while longer (twice the longest timer at its longest
  // jitter, so every cut-off node times out at least twice), heal, and run as long again before
  // judging what the rejoin did.
  for (const slot of world.nodes) for (const t of slot.timers) longest = Math.max(longest, t.delayMs);
  const settle = 2 * longest * Math.max(1, ...Object.values(sim.protocol.timerJitter ?? {}));
  for (const until = now + settle; i < steps && now < until; i++) if (!next()) break;
  const heal = sim.view(world);
  apply({ kind: 'heal' });
  for (let j = 0, until = now + settle; j < steps && now < until; j++) if (!next()) break;
  const end = sim.view(world);
  const back = { nodes: fairness.down, cut: atCut, heal };
  return { unmet: rejoin.filter((p) => !p.holds(end, back)), steps: records, world };
}
