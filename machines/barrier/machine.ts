/**
 * Reusable coordinator barrier, one machine per node, as in the seed's Diagram 4: node 1
 * coordinates and also takes part.
 *
 * - Setup (the seed's Phase 1): each participant registers with the coordinator of barrier
 *   `#ref123` and learns the generation to work on. Membership is fixed: all n nodes.
 * - A participant works, then arrives (`client.arrive`): it sends `arrive(generation)` to the
 *   coordinator and waits. The coordinator's own arrival is local.
 * - The coordinator keeps the set of nodes that arrived in its current generation. When every
 *   node has arrived it broadcasts `release(generation)` and opens the next generation. A
 *   waiting participant released from its generation moves on to the next one.
 * - Generations never mix: every message carries its generation, and the coordinator ignores
 *   an arrival tagged with any generation but its current one (a duplicate, or a straggler's
 *   arrival overtaken by the release).
 *
 * Generations are bounded (src/bounds.ts): a `registered` or `release` carrying a generation
 * outside [0, MAX_COUNTER] is ignored (`inBound`), whatever the transport let through. A
 * participant moved to generation 2^53 would stay there (2^53 + 1 === 2^53 in a JavaScript
 * number) and never again match the coordinator's generation.
 *
 * Timeout barrier (the seed's "optimization opportunity"): the first arrival of a generation
 * arms a deadline. When it expires the coordinator releases the nodes that arrived and names
 * the missing ones stragglers. A straggler still working learns from the release that its
 * generation is over and joins the next one: its late arrival counts there. Throughput rises at
 * the cost of consistency: a straggler's work for the skipped generation is not waited for.
 */
import { enqueueActions, setup } from 'xstate';
import { isCounter } from '../../src/bounds.js';
import type { NodeId, NodeInput } from '../../src/protocol.js';
import type { BarrierEvent, BarrierMessage, BarrierNote } from './messages.js';
import { BARRIER_ID, COORDINATOR } from './timing.js';

export interface BarrierContext {
  id: NodeId;
  n: number;
  /** The barrier this node is registered with; null before registration. */
  barrier: string | null;
  /** The generation this node works on (the coordinator: the one it is collecting). */
  generation: number;
  /** The generation this node arrived at and waits to be released from; null while working. */
  waitingFor: number | null;
  /** Coordinator only: arrivals counted in the current generation, in arrival order. */
  arrived: NodeId[];
  /** Coordinator only: releases sent so far. */
  releases: number;
  /** The barrier's deadline after a generation's first arrival, in ms; null for a strict barrier. Fixed: what the properties read to know which promise the barrier makes. */
  deadlineMs: number | null;
  /** The node started again after a crash: what it arrived at before was another life's work. */
  restarted: boolean;
}

export interface BarrierOptions {
  /** Release at the deadline with whoever arrived (timeout barrier); null: wait for all. */
  deadlineMs: number | null;
  /** Count each node once per generation. Off: the `count-duplicates` bug. */
  dedupeArrivals: boolean;
  /** Arrivals needed, relative to the cluster size: 0, or -1 for the `off-by-one` bug. */
  quorumOffset: number;
  /** Also count an arrival tagged with the previous generation: the `stale-generation` bug. */
  acceptStale: boolean;
  /** A waiting node resumes only once released. Off: the guard is inverted, the `resume-early` bug. */
  waitForRelease?: boolean;
  /** `client.arrive` moves a node to `waiting`. Off: it keeps working, the `arrive-keeps-working` bug. */
  arriveWaits?: boolean;
  /** The first arrival of a generation arms the deadline. Off: it never fires, the `deadline-never-fires` bug. */
  armDeadline?: boolean;
  /** A released node that waited notes itself released. Off: it notes itself a straggler, the `all-stragglers` bug. */
  noteReleased?: boolean;
  /** Flag every release as a deadline release (the `flagged-early-release` bug, with `quorumOffset` -1). */
  flagDeadline?: boolean;
  /** A participant leaving a generation notes how it ended. Off: it notes nothing, the `silent-release` bug. */
  noteEnd?: boolean;
  /** A registering participant works on the generation the coordinator gave it. Off: it keeps its own, the `stale-registration` bug. */
  adoptGeneration?: boolean;
  /** A released node goes back to work. Off: it stays at the barrier, the `released-stays-waiting` bug. */
  resume?: boolean;
}

export type BarrierEmitted = { type: 'send'; to: NodeId | 'others'; msg: BarrierMessage } | { type: 'note'; note: BarrierNote };

const send = (to: NodeId | 'others', msg: BarrierMessage): BarrierEmitted => ({ type: 'send', to, msg });
const note = (fact: BarrierNote): BarrierEmitted => ({ type: 'note', note: fact });
/** The part of xstate's `enqueue` object the release logic uses. */
interface Enqueue {
  emit(event: BarrierEmitted): void;
  assign(values: Partial<BarrierContext>): void;
  raise(event: BarrierEvent, options: { delay: number; id: string }): void;
  cancel(id: string): void;
}

const allNodes = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

export function barrierMachine(options: BarrierOptions, machineId = 'barrier') {
  const counts = (context: BarrierContext, generation: number) =>
    generation === context.generation || (options.acceptStale && generation === context.generation - 1);
  const complete = (arrived: NodeId[], n: number) => arrived.length >= n + options.quorumOffset;

  /** Releases the current generation: tells everyone, opens the next one, moves the coordinator on. */
  const release = (context: BarrierContext, arrived: NodeId[], deadline: boolean, q: Enqueue) => {
    const g = context.generation;
    const came = [...new Set(arrived)].sort((a, b) => a - b);
    const stragglers = allNodes(context.n).filter((x) => !came.includes(x));
    q.emit(send('others', { type: 'release', barrier: context.barrier!, generation: g, arrived, stragglers }));
    q.emit(note({ type: 'release', generation: g, seq: context.releases + 1, arrived, stragglers, deadline }));
    q.emit(note(context.waitingFor === g ? { type: 'released', generation: g } : { type: 'straggler', generation: g }));
    if (options.deadlineMs !== null) q.cancel('deadline');
    q.assign({ generation: g + 1, arrived: [], releases: context.releases + 1, waitingFor: null });
  };

  /** The coordinator counts one arrival (its own or a participant's) and releases when all are in. */
  const count = (context: BarrierContext, from: NodeId, q: Enqueue) => {
    if (!options.dedupeArrivals || !context.arrived.includes(from)) {
      const arrived = [...context.arrived, from];
      if (complete(arrived, context.n)) return release({ ...context, arrived }, arrived, !!options.flagDeadline, q);
      if (context.arrived.length === 0 && options.deadlineMs !== null && options.armDeadline !== false) {
        q.raise({ type: 'deadline', generation: context.generation }, { delay: options.deadlineMs, id: 'deadline' });
      }
      q.assign({ arrived });
    }
  };

  return setup({
    types: {
      context: {} as BarrierContext,
      events: {} as BarrierEvent,
      input: {} as NodeInput,
      emitted: {} as BarrierEmitted,
    },
    guards: {
      /** This node is the coordinator (node 1), which holds the barrier. */
      isCoordinator: ({ context }) => context.id === COORDINATOR,
      /** This node is not waiting at the barrier. */
      released: ({ context }) => (context.waitingFor === null) === (options.waitForRelease !== false) && options.resume !== false,
      /** The message's generation is within the wire's bounds; a message outside them is ignored. */
      inBound: ({ event }) => !('generation' in event) || isCounter(event.generation),
    },
    actions: {
      /** The coordinator opens the barrier, at generation 0. */
      openBarrier: enqueueActions(({ enqueue: q }) => {
        q.assign({ barrier: BARRIER_ID });
        q.emit(note({ type: 'registered', barrier: BARRIER_ID, generation: 0 }));
      }),
      /** A participant asks the coordinator to register it at the barrier. */
      askToRegister: enqueueActions(({ enqueue: q }) => {
        q.emit(send(COORDINATOR, { type: 'register', barrier: BARRIER_ID }));
      }),
      /** The coordinator answers a registration for its barrier with the current generation. */
      acceptRegistration: enqueueActions(({ context, event, enqueue: q }) => {
        if (event.type !== 'register' || event.barrier !== context.barrier) return;
        q.emit(send(event.from, { type: 'registered', barrier: context.barrier, generation: context.generation }));
      }),
      /** Generations only move forward: a release may have overtaken this answer. */
      register: enqueueActions(({ context, event, enqueue: q }) => {
        if (event.type !== 'registered') return;
        const generation = Math.max(event.generation, context.generation);
        q.assign({ barrier: event.barrier, generation: options.adoptGeneration === false ? context.generation : generation });
        q.emit(note({ type: 'registered', barrier: event.barrier, generation }));
      }),
      /** Arrives at the barrier in the current generation: the coordinator counts itself, a participant tells the coordinator. */
      arrive: enqueueActions(({ context, enqueue: q }) => {
        q.assign({ waitingFor: context.generation });
        q.emit(note({ type: 'arrive', generation: context.generation }));
        if (context.id === COORDINATOR) count({ ...context, waitingFor: context.generation }, context.id, q as Enqueue);
        else q.emit(send(COORDINATOR, { type: 'arrive', barrier: context.barrier!, generation: context.generation }));
      }),
      /** The coordinator counts an arrival of the current generation at its barrier (releasing when all arrived). */
      countArrival: enqueueActions(({ context, event, enqueue: q }) => {
        if (event.type !== 'arrive' || event.barrier !== context.barrier || !counts(context, event.generation)) return;
        count(context, event.from, q as Enqueue);
      }),
      /** The coordinator's deadline for the generation: releases those that arrived; the others are stragglers. */
      deadline: enqueueActions(({ context, event, enqueue: q }) => {
        if (event.type !== 'deadline' || event.generation !== context.generation || context.arrived.length === 0) return;
        release(context, context.arrived, true, q as Enqueue);
      }),
      /** A participant's generation ends: released if it waited, a straggler if it still worked. */
      leaveGeneration: enqueueActions(({ context, event, enqueue: q }) => {
        if (event.type !== 'release' || event.barrier !== (context.barrier ?? BARRIER_ID) || event.generation < context.generation) return;
        const g = event.generation;
        if (options.noteEnd !== false) q.emit(note(context.waitingFor === g && options.noteReleased !== false ? { type: 'released', generation: g } : { type: 'straggler', generation: g }));
        q.assign({ generation: g + 1, waitingFor: null });
      }),
    },
  }).createMachine({
    id: machineId,
    context: ({ input }) => ({
      id: input.id,
      n: input.n,
      barrier: null,
      generation: 0,
      waitingFor: null,
      arrived: [],
      releases: 0,
      deadlineMs: options.deadlineMs,
      restarted: input.restored !== undefined,
    }),
    initial: 'boot',
    on: {
      register: { guard: 'isCoordinator', actions: 'acceptRegistration' },
      arrive: { guard: 'isCoordinator', actions: 'countArrival' },
      deadline: { guard: 'isCoordinator', actions: 'deadline' },
    },
    states: {
      boot: {
        always: [{ guard: 'isCoordinator', target: 'working', actions: 'openBarrier' }, { target: 'unregistered', actions: 'askToRegister' }],
      },
      unregistered: {
        on: {
          registered: { guard: 'inBound', target: 'working', actions: 'register' },
          // On an unordered network a deadline release can overtake the registration answer.
          release: { guard: 'inBound', actions: 'leaveGeneration' },
        },
      },
      working: {
        on: {
          'client.arrive': { target: options.arriveWaits === false ? 'working' : 'waiting', actions: 'arrive' },
          release: { guard: 'inBound', actions: 'leaveGeneration' },
        },
      },
      waiting: {
        always: { guard: 'released', target: 'working' },
        on: { release: { guard: 'inBound', actions: 'leaveGeneration' } },
      },
    },
  });
}

/**
 * Nothing survives a crash: a restarted participant registers again and learns the current
 * generation. A restarted coordinator forgets the arrivals it counted; crash recovery of the
 * coordinator is outside this barrier's model.
 */
export function barrierDurable(): object {
  return {};
}
