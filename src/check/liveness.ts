/**
 * The liveness phase after a faulty prefix (TigerBeetle's VOPR does the same): heal the
 * partition, restart crashed nodes, then run a fair, fault-free schedule and require every
 * `eventually` property to hold within `livenessSteps` steps. Fair: every message in flight is
 * delivered (oldest channel first), client requests are served, and timers fire in order of a
 * virtual deadline (delay, jittered per node as a host would randomize it).
 */
import type { NodeId, Property } from '../protocol.js';
import type { Choice } from '../sim/choice.js';
import type { Simulator, StepRecord } from '../sim/simulator.js';
import type { World } from '../sim/world.js';

export interface LivenessResult {
  /** The eventually-properties that never held during the phase. */
  unmet: Property[];
  steps: StepRecord[];
  world: World;
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

/** `sometimes` properties met along the way are removed from `sometimes`. */
export function livenessPhase(sim: Simulator, start: World, steps: number, sometimes?: Set<Property>): LivenessResult {
  const goals = sim.protocol.properties.filter((p) => p.kind === 'eventually');
  const unmet = new Set(goals);
  const records: StepRecord[] = [];
  let world = start;
  const due = new Map<string, number>();
  const apply = (choice: Choice) => {
    const r = sim.step(world, choice);
    world = r.world;
    records.push(r.record);
    // A re-armed timer starts over; a crashed node's timers are gone.
    for (const e of r.record.effects) if (e.kind === 'timer') due.delete(`${r.record.node}/${e.id}`);
  };
  if (world.partition !== 0) apply({ kind: 'heal' });
  for (let id = 1; id <= sim.n; id++) if (world.nodes[id - 1].local === null) apply({ kind: 'restart', node: id });
  let now = 0;
  const judge = () => {
    const view = sim.view(world);
    for (const p of unmet) if (p.holds(view)) unmet.delete(p);
    if (sometimes) for (const p of sometimes) if (p.holds(view)) sometimes.delete(p);
  };
  judge();
  for (let i = 0; i < steps && unmet.size; i++) {
    const picked = fairChoice(sim, sim.enabled(world), due, now);
    if (!picked) break;
    now = picked.now;
    apply(picked.choice);
    judge();
  }
  return { unmet: [...unmet], steps: records, world };
}
