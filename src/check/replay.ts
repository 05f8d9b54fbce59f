/** Replays a run given as choice indices from the initial world. */
import type { Model } from './model.js';
import { Simulator, type StepRecord } from '../sim/simulator.js';
import type { World } from '../sim/world.js';

export interface Replayed {
  sim: Simulator;
  steps: StepRecord[];
  worlds: World[];
}

/** Each index picks `enabled[index % count]`; a run ends early when nothing is enabled. */
export function replay(model: Model, path: readonly number[], sim = new Simulator(model.protocol, model.variant, model.config)): Replayed {
  let world = sim.initial().world;
  const worlds = [world];
  const steps: StepRecord[] = [];
  for (const index of path) {
    const choices = sim.enabled(world);
    if (choices.length === 0) break;
    const result = sim.step(world, choices[index % choices.length]);
    world = result.world;
    worlds.push(world);
    steps.push(result.record);
  }
  return { sim, steps, worlds };
}
