/**
 * Acknowledged broadcast, one machine per node. Node 1, asked by a client, announces to every
 * other node; each node notes that it heard and acknowledges; node 1 notes `complete` once
 * every other node has acknowledged. The machine does no I/O: it emits `send` and `note`
 * actions, which the checker, the timed simulator and the TCP runtime all interpret.
 */
import { assign, emit, setup } from 'xstate';
import type { NodeId, NodeInput } from 'coordkit';
import type { BroadcastClient, BroadcastMessage, BroadcastNote } from './messages.js';

type Event = (BroadcastMessage & { from: NodeId }) | BroadcastClient;
type Emitted = { type: 'send'; to: NodeId | 'others'; msg: BroadcastMessage } | { type: 'note'; note: BroadcastNote };

export interface Context {
  id: NodeId;
  n: number;
  /** Node 1 only: the nodes that acknowledged. */
  acked: NodeId[];
}

/** `completeEarly`: node 1 completes on the first acknowledgment (the bug). */
export function broadcastMachine(options: { completeEarly: boolean }) {
  const enough = (c: Context) => c.acked.length >= (options.completeEarly ? 1 : c.n - 1);
  return setup({
    types: { context: {} as Context, events: {} as Event, input: {} as NodeInput, emitted: {} as Emitted },
  }).createMachine({
    id: 'broadcast',
    context: ({ input }) => ({ id: input.id, n: input.n, acked: [] }),
    initial: 'start',
    states: {
      start: { always: [{ guard: ({ context }) => context.id === 1, target: 'ready' }, { target: 'listening' }] },
      ready: { on: { 'client.announce': { target: 'waiting', actions: emit({ type: 'send', to: 'others', msg: { type: 'announce' } }) } } },
      waiting: {
        // An acknowledgment counts once per node, even if the network duplicates it.
        on: { ack: { actions: assign({ acked: ({ context, event }) => [...new Set([...context.acked, event.from])].sort((a, b) => a - b) }) } },
        always: { guard: ({ context }) => enough(context), target: 'complete' },
      },
      complete: { entry: emit({ type: 'note', note: { type: 'complete' } }) },
      listening: {
        on: {
          announce: {
            target: 'heard',
            actions: [emit({ type: 'note', note: { type: 'heard' } }), emit(({ event }) => ({ type: 'send' as const, to: event.from, msg: { type: 'ack' as const } }))],
          },
        },
      },
      heard: {},
    },
  });
}
