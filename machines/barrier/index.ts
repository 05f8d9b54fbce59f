/** The barrier primitive (strict and timeout): machine, variants, properties and model defaults. */
import { lazyVariants, type LazyVariant } from '../../src/lazy-variants.js';
import type { Protocol, Variant } from '../../src/protocol.js';
import { barrierProperties } from '../../invariants/barrier.js';
import { barrierDurable, barrierMachine, type BarrierContext, type BarrierOptions } from './machine.js';
import { BARRIER_ID, COORDINATOR, DEADLINE_MS } from './timing.js';

export { BARRIER_SEED_TIMING, BARRIER_ID, COORDINATOR, DEADLINE_MS } from './timing.js';

const strict: BarrierOptions = { deadlineMs: null, dedupeArrivals: true, quorumOffset: 0, acceptStale: false };
const timeout: BarrierOptions = { ...strict, deadlineMs: DEADLINE_MS };
const variant = (name: string, description: string, options: BarrierOptions, more: Partial<Omit<Variant, 'machine'>> = {}): LazyVariant => ({
  name,
  description,
  machine: () => barrierMachine(options),
  durable: barrierDurable,
  ...more,
});

export const barrierVariants: Variant[] = lazyVariants([
  variant('strict', 'Coordinator barrier: releases a generation when every node arrived (the verified default).', strict),
  // The deadline may fire at any point of any generation: at 4 nodes that exceeds 3 million
  // worlds, so the timeout barrier is checked at 3 nodes unless --nodes says otherwise.
  variant('timeout', `Timeout barrier: releases ${DEADLINE_MS} ms after the first arrival with whoever arrived; stragglers join the next generation.`, timeout, {
    reveal: { nodes: 3 },
  }),
  variant('count-duplicates', 'Counts a duplicated arrive message twice.', { ...strict, dedupeArrivals: false }, {
    breaks: 'no release before all arrived',
    reveal: { faults: ['dup'] },
  }),
  variant('off-by-one', 'Releases when all but one node arrived.', { ...strict, quorumOffset: -1 }, { breaks: 'no release before all arrived' }),
  variant('stale-generation', "Timeout barrier that counts a straggler's late arrive of the previous generation toward the current one.", { ...timeout, acceptStale: true }, {
    breaks: 'generations do not mix',
  }),
  variant('resume-early', 'A waiting node resumes work while it is not yet released (the guard inverted).', { ...strict, waitForRelease: false }, {
    breaks: 'a node resumes only after a release',
  }),
  variant('arrive-keeps-working', 'Arriving sends the arrive message but keeps the node working instead of waiting.', { ...strict, arriveWaits: false }, {
    breaks: 'a node resumes only after a release',
  }),
  variant('deadline-never-fires', 'Timeout barrier whose deadline is never armed: quietly strict, it waits for every straggler.', { ...timeout, armDeadline: false }, {
    breaks: 'a deadline releases whoever waits',
    reveal: { nodes: 3 },
  }),
  variant('all-stragglers', 'A released participant notes itself a straggler even though it arrived and waited.', { ...strict, noteReleased: false }, {
    breaks: 'stragglers are exactly the ones that had not arrived',
  }),
  variant('silent-release', 'A participant leaving a generation notes nothing: it cannot tell whether it was released or skipped as a straggler.', { ...strict, noteEnd: false }, {
    breaks: 'a node that moves on notes its release',
  }),
  variant('stale-registration', "Timeout barrier whose participant notes the coordinator's generation when it registers but keeps working on its own.", { ...timeout, adoptGeneration: false }, {
    breaks: 'a node registers once, then arrives at or past its generation',
    // The answer names a later generation only when a deadline release overtakes it.
    reveal: { nodes: 3, network: 'unordered', params: { generations: 1 } },
  }),
  variant('released-stays-waiting', 'A released node stays at the barrier instead of going back to work.', { ...strict, resume: false }, {
    breaks: 'every node is at work or waits for an arrival',
  }),
  variant('flagged-early-release', 'Strict barrier that releases when all but one node arrived and flags the release as a deadline release, as if that excused it.', { ...strict, quorumOffset: -1, flagDeadline: true }, {
    breaks: 'no release before all arrived',
  }),
]);

export const barrier: Protocol = {
  name: 'barrier',
  description: `Reusable coordinator barrier ${BARRIER_ID} (node ${COORDINATOR} coordinates and takes part), strict or with a deadline and stragglers.`,
  variants: barrierVariants,
  defaultVariant: 'strict',
  properties: barrierProperties,
  defaults: { nodes: 4, network: 'fifo', faults: [], maxRound: 8, maxInFlight: 32, maxDuplicates: 1, params: { generations: 2 } },
  params: { generations: { type: 'int', min: 1, max: 10, description: 'barrier rounds each worker arrives at' } },
  alsoCheck: [{ why: '3 nodes with duplicated messages: an arrival counted twice, a release handled twice', config: { nodes: 3, faults: ['dup'] } }],
  ghost: ['registered', 'arrive', 'release', 'released', 'straggler'],
  round: (c: BarrierContext) => c.generation,
  clients: (node, used, config) =>
    node.state === 'working' && used < Number(config.params.generations ?? 1) ? [{ type: 'client.arrive' }] : [],
  sampleEvents: (config) => {
    const events: { type: string }[] = [{ type: 'client.arrive' }, { type: 'register', barrier: BARRIER_ID, from: 2 } as { type: string }, { type: 'registered', barrier: BARRIER_ID, generation: 0, from: COORDINATOR } as { type: string }];
    for (let generation = 0; generation <= 2; generation++) {
      events.push({ type: 'deadline', generation } as { type: string });
      events.push({ type: 'release', barrier: BARRIER_ID, generation, arrived: [], stragglers: [], from: COORDINATOR } as { type: string });
      for (let from = 2; from <= config.nodes; from++) events.push({ type: 'arrive', barrier: BARRIER_ID, generation, from } as { type: string });
    }
    return events;
  },
  types: { file: 'machines/barrier/messages.ts', message: 'BarrierMessage', client: 'BarrierClient', note: 'BarrierNote' },
};
