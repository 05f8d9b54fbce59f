/**
 * Two-phase commit (Gray & Lamport, "Consensus on Transaction Commit", 2006, the TwoPhase
 * spec), defined with coordkit's public API only. Node 1 is the transaction manager (TM), nodes
 * 2..n are resource managers (RMs).
 *
 * An RM in `working` spontaneously prepares (tells the TM `prepared`) or chooses to abort.
 * The TM commits once every RM has prepared, or spontaneously aborts while undecided, and
 * broadcasts its decision; RMs obey it. The spontaneous moves are client events: the checker
 * tries them at every point.
 */
import { assign, emit, setup } from 'xstate';
import type { NodeId, NodeInput } from '../../src/index.js';

export type TpcMessage = { type: 'prepared' } | { type: 'commit' } | { type: 'abort' };
export type TpcClient = { type: 'client.prepare' } | { type: 'client.abort' };
export type TpcNote = { type: 'committed' } | { type: 'aborted' };
type TpcEvent = (TpcMessage & { from: NodeId }) | TpcClient;
type Emitted = { type: 'send'; to: NodeId | 'others'; msg: TpcMessage } | { type: 'note'; note: TpcNote };

export interface TpcContext {
  id: NodeId;
  n: number;
  /** TM only: the RMs that said prepared. */
  prepared: NodeId[];
}

export const TM: NodeId = 1;

/** `commitEarly`: the TM commits on the first `prepared` (the bug). */
export function twoPhaseCommitMachine(options: { commitEarly: boolean }) {
  const allPrepared = (c: TpcContext) => (options.commitEarly ? c.prepared.length >= 1 : c.prepared.length === c.n - 1);
  return setup({
    types: { context: {} as TpcContext, events: {} as TpcEvent, input: {} as NodeInput, emitted: {} as Emitted },
    actions: {
      decide: emit((_, note: TpcNote) => ({ type: 'note' as const, note })),
    },
  }).createMachine({
    id: 'two-phase-commit',
    context: ({ input }) => ({ id: input.id, n: input.n, prepared: [] }),
    initial: 'start',
    states: {
      start: { always: [{ guard: ({ context }) => context.id === TM, target: 'tm' }, { target: 'rm' }] },
      tm: {
        initial: 'init',
        states: {
          init: {
            on: {
              prepared: [
                {
                  guard: ({ context, event }) => allPrepared({ ...context, prepared: [...new Set([...context.prepared, event.from])] }),
                  target: 'committed',
                  actions: assign({ prepared: ({ context, event }) => [...new Set([...context.prepared, event.from])].sort() }),
                },
                { actions: assign({ prepared: ({ context, event }) => [...new Set([...context.prepared, event.from])].sort() }) },
              ],
              'client.abort': 'aborted',
            },
          },
          committed: { entry: emit({ type: 'send', to: 'others', msg: { type: 'commit' } }) },
          aborted: { entry: emit({ type: 'send', to: 'others', msg: { type: 'abort' } }) },
        },
      },
      rm: {
        initial: 'working',
        states: {
          working: {
            on: {
              'client.prepare': { target: 'prepared', actions: emit({ type: 'send', to: TM, msg: { type: 'prepared' } }) },
              'client.abort': 'aborted',
              abort: 'aborted',
            },
          },
          prepared: { on: { commit: 'committed', abort: 'aborted' } },
          committed: { entry: { type: 'decide', params: { type: 'committed' } } },
          aborted: { entry: { type: 'decide', params: { type: 'aborted' } } },
        },
      },
    },
  });
}
