/**
 * Two-phase commit (Gray & Lamport, "Consensus on Transaction Commit", 2006, the TwoPhase
 * spec), defined with coordkit's public API only. Node 1 is the transaction manager (TM), nodes
 * 2..n are resource managers (RMs).
 *
 * One event per action of the spec, and nothing the spec does not hold: an RM in `working`
 * prepares (tells the TM `prepared`) or chooses to abort; the TM records each `prepared`,
 * commits once enough RMs have prepared, or aborts while undecided, and broadcasts its
 * decision; RMs obey it. Preparing, choosing to abort, committing and aborting receive no
 * message: they are the protocol's spontaneous moves (index.ts), which the checker tries
 * whenever the node's state allows them, as TLC tries the spec's actions.
 */
import { assign, emit, setup } from 'xstate';
import type { NodeId, NodeInput } from '../../src/index.js';

export type TpcMessage = { type: 'prepared' } | { type: 'commit' } | { type: 'abort' };
export type TpcClient = { type: 'client.prepare' } | { type: 'client.abort' } | { type: 'client.commit' };
export type TpcNote = { type: 'committed' } | { type: 'aborted' };
type TpcEvent = (TpcMessage & { from: NodeId }) | TpcClient;
type Emitted = { type: 'send'; to: NodeId | 'others'; msg: TpcMessage } | { type: 'note'; note: TpcNote };

export interface TpcContext {
  id: NodeId;
  n: number;
  /** TM only: the RMs that said prepared (the spec's tmPrepared). */
  prepared: NodeId[];
  /** How many must have prepared before the TM may commit: every RM (n - 1), or fewer in a buggy variant. */
  needed: number;
}

export const TM: NodeId = 1;

/** The TM may commit: enough RMs have prepared. */
export const mayCommit = (c: TpcContext) => c.prepared.length >= c.needed;

/** `commitEarly`: the TM may commit once one RM has prepared (the bug). */
export function twoPhaseCommitMachine(options: { commitEarly: boolean }) {
  return setup({
    types: { context: {} as TpcContext, events: {} as TpcEvent, input: {} as NodeInput, emitted: {} as Emitted },
    actions: {
      decide: emit((_, note: TpcNote) => ({ type: 'note' as const, note })),
    },
  }).createMachine({
    id: 'two-phase-commit',
    context: ({ input }) => ({ id: input.id, n: input.n, prepared: [], needed: options.commitEarly ? 1 : input.n - 1 }),
    initial: 'start',
    states: {
      start: { always: [{ guard: ({ context }) => context.id === TM, target: 'tm' }, { target: 'rm' }] },
      tm: {
        initial: 'init',
        states: {
          init: {
            on: {
              // TMRcvPrepared
              prepared: { actions: assign({ prepared: ({ context, event }) => [...new Set([...context.prepared, event.from])].sort((a, b) => a - b) }) },
              // TMCommit
              'client.commit': { guard: ({ context }) => mayCommit(context), target: 'committed' },
              // TMAbort
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
              // RMPrepare
              'client.prepare': { target: 'prepared', actions: emit({ type: 'send', to: TM, msg: { type: 'prepared' } }) },
              // RMChooseToAbort
              'client.abort': 'aborted',
              // RMRcvAbortMsg
              abort: 'aborted',
            },
          },
          // RMRcvCommitMsg, RMRcvAbortMsg
          prepared: { on: { commit: 'committed', abort: 'aborted' } },
          committed: { entry: { type: 'decide', params: { type: 'committed' } } },
          aborted: { entry: { type: 'decide', params: { type: 'aborted' } } },
        },
      },
    },
  });
}
