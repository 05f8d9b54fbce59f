/** The consensus primitive: machine, variants, properties and model defaults. */
import { lazyVariants } from '../../src/lazy-variants.js';
import { and, createMachine, type AnyStateMachine } from 'xstate';
import type { Protocol, ProtocolConfig, Variant } from '../../src/protocol.js';
import { consensusGhost, consensusProperties } from '../../invariants/consensus.js';
import { consensusDurable, consensusMachine, roundOfTerm, type ConsensusContext, type ConsensusOptions } from './machine.js';
import type { ConsensusEvent } from './messages.js';

const verified: ConsensusOptions = { flow: 'paxos', carryAccepted: true, commitQuorum: 'majority' };

/**
 * What a proposer lets leave while its own acceptance is written: its commit (phase 2a) and the
 * notes of that step. Paxos allows it: the proposer's term is on disk since phase 1 (its
 * proposes waited for it), a restarted node runs phase 1 in a new term, and the proposer counts
 * its own acceptance only in the step that decides, whose notes wait for a flush covering it.
 * So a value is chosen only with the acceptance on disk, and a crash before the flush leaves a
 * commit out that its sender no longer holds, which a later term may outbid like any commit
 * that did not reach a majority. The checker explores that crash (`crash N before its last write reached the disk`).
 */
const commitBeforeFlush = { sends: ['commit'], notes: ['proposed', 'accepted'] };

/**
 * The `learner-proposes` bug: the verified machine with the one transition changed, a `decided`
 * that ends a proposer's attempt leading to `proposing` instead of `learned` (written here, not as an option of the machine, so
 * the machine's own `decided` transition stays what its mutants change).
 */
function proposingAfterLearning(machine: ReturnType<typeof consensusMachine>): AnyStateMachine {
  const { on } = machine.config as unknown as { on: Record<string, object[]> };
  const proposing = '.proposing';
  const [ends] = on.decided as { guard: string }[];
  const proposer = ({ context }: { context: object }) => (context as ConsensusContext).proposal !== null;
  const decided = [{ ...ends, guard: and([ends.guard, proposer]), target: proposing }, ...on.decided];
  const transitions = { ...on, decided };
  return createMachine({ ...machine.config, on: transitions } as never, machine.implementations as never);
}

type Guard = (args: { context: ConsensusContext; event: ConsensusEvent }, params: unknown) => boolean;

/**
 * The verified machine with some of its guards replaced (written here, not as options of the
 * machine, so the machine's own guards stay what its mutants change, with no branch only a
 * variant takes). `replace` gets the verified guards by name.
 */
function withGuards(replace: (verified: Record<string, Guard>) => Record<string, Guard>): AnyStateMachine {
  const machine = consensusMachine(verified);
  return machine.provide({ guards: replace(machine.implementations.guards as unknown as Record<string, Guard>) } as never);
}

/**
 * Two competing proposers on a reordering network, no faults: concurrency alone breaks these.
 * `maxInFlight` is raised where the shortest counterexample has more messages outstanding.
 */
const competing = { params: { proposers: [1, 2] }, network: 'unordered' as const, faults: [] };

export const consensusVariants: Variant[] = lazyVariants([
  {
    name: 'paxos',
    description: 'The seed\'s propose/promise/commit/ack made safe as Paxos: promises report accepted values, decided on a majority of acks.',
    machine: () => consensusMachine(verified),
    durable: consensusDurable,
    beforeFlush: commitBeforeFlush,
  },
  {
    name: 'ack-before-flush',
    description: 'An acceptor acks a commit before its acceptance is on disk: a crash before the flush forgets a vote the proposer counted, and a value decided on it stops being chosen.',
    breaks: 'a decided value stays chosen',
    reveal: { faults: ['crash'], params: { proposers: [1] } },
    machine: () => consensusMachine(verified),
    durable: consensusDurable,
    beforeFlush: { sends: [...commitBeforeFlush.sends, 'ack'], notes: commitBeforeFlush.notes },
  },
  {
    name: 'as-drawn',
    description: 'The seed\'s flow as drawn: nodes apply on commit, a promise carries nothing.',
    breaks: 'agreement',
    reveal: { ...competing, maxInFlight: 5 },
    machine: () => consensusMachine({ flow: 'as-drawn', carryAccepted: false, commitQuorum: 'majority' }),
    durable: consensusDurable,
  },
  {
    name: 'forget-accepted',
    description: 'A promise omits the value the node accepted: a new proposer overrides a chosen value.',
    breaks: 'a decided value stays chosen',
    reveal: competing,
    machine: () => consensusMachine({ ...verified, carryAccepted: false }),
    durable: consensusDurable,
  },
  {
    name: 'volatile-acceptor',
    description: 'The promised term is not durable: after a restart a node accepts terms it promised to refuse.',
    breaks: 'term never decreases',
    reveal: { ...competing, faults: ['crash'] },
    machine: () => consensusMachine(verified),
    durable: (c: ConsensusContext) => {
      const { promised: _forgotten, ...rest } = consensusDurable(c);
      return rest;
    },
  },
  {
    name: 'own-vote-uncounted',
    description: 'The proposer counts neither its own promise nor its own acceptance: with 3 nodes it needs both others, so one node down for good stops every decision.',
    breaks: 'a value is decided despite a minority down',
    machine: () => consensusMachine({ ...verified, countOwn: false }),
    durable: consensusDurable,
  },
  {
    name: 'ack-quorum-above-majority',
    description: 'Decides only on more acks than a majority (every node, of 3 or 4): one node down for good stops every decision.',
    breaks: 'a value is decided despite a minority down',
    machine: () => consensusMachine({ ...verified, ackQuorum: 'above-majority' }),
    durable: consensusDurable,
  },
  {
    name: 'no-decided-broadcast',
    description: 'The proposer applies the decision but tells nobody: a node that does not propose never learns it.',
    breaks: 'every node learns',
    machine: () => consensusMachine({ ...verified, announce: false }),
    durable: consensusDurable,
  },
  {
    name: 'ignore-decided',
    description: 'The test on a `decided` notification is inverted: only a node that already knows the decision takes it, so no other node learns.',
    breaks: 'every node learns',
    machine: () => consensusMachine({ ...verified, learnFromDecided: false }),
    durable: consensusDurable,
  },
  {
    name: 'restart-idle',
    description: 'A restarted proposer waits for a client instead of retrying its durable proposal: if the decision was announced while it was down, it never decides.',
    breaks: 'every proposer decides',
    reveal: { faults: ['crash'] },
    machine: () => consensusMachine({ ...verified, resumeProposal: false }),
    durable: consensusDurable,
  },
  {
    name: 'learner-proposes',
    description: 'A proposer that learns the decision of its slot from a `decided` goes on proposing: it runs a round of its own, decides the chosen value again and announces it again.',
    breaks: 'a node that decides applies that decision',
    // The proposer's second term is in round 1; FIFO links keep that space small.
    reveal: { faults: [], maxRound: 1, network: 'fifo' },
    machine: () => proposingAfterLearning(consensusMachine(verified)),
    durable: consensusDurable,
  },
  {
    name: 'silent-after-decision',
    description: 'A node that does not take a client\'s proposal (it knows the decision already) ignores it instead of telling it the decided value: that client waits for ever.',
    breaks: 'every client request is answered',
    reveal: { faults: [] },
    machine: () => consensusMachine({ ...verified, answerLate: 'nothing' }),
    durable: consensusDurable,
  },
  {
    name: 'tell-own-value',
    description: 'A node that already knows the decision answers a client\'s proposal with the value the client proposed, as if it had been decided.',
    breaks: 'a client is told the decided value',
    reveal: { faults: [] },
    machine: () => consensusMachine({ ...verified, answerLate: 'own-value' }),
    durable: consensusDurable,
  },
  {
    name: 'minority-commit',
    description: 'The proposer commits on half the nodes\' promises (its own alone with 3 nodes), short of a majority: its commit is accepted although no majority promised its term, and two values can be chosen.',
    breaks: "a commit follows a majority's promises",
    reveal: { ...competing, maxInFlight: 6 },
    machine: () => consensusMachine({ ...verified, commitQuorum: 'half' }),
    durable: consensusDurable,
  },
  {
    name: 'reuse-slot',
    description: 'A node puts a client\'s value in the slot before the first free one: a leader, skipping phase 1 in the term it leads, has the acceptors take the new value in the slot it decided last, and one slot is decided twice.',
    breaks: 'agreement',
    reveal: { faults: [], params: { proposers: [1], slots: 2 } },
    machine: () => consensusMachine({ ...verified, freshSlot: false }),
    durable: consensusDurable,
  },
  {
    name: 'ack-any-slot',
    description: 'A leader counts an ack of its term whatever slot it names: a late ack of the previous slot decides the next one, which no majority accepted.',
    breaks: 'a decided value stays chosen',
    reveal: { faults: [], params: { proposers: [1], slots: 2 } },
    machine: () => consensusMachine({ ...verified, ackSlot: false }),
    durable: consensusDurable,
  },
  {
    name: 'leader-steps-back',
    description: 'A leader steps back as soon as it decides (its promise is its own term, not a higher one): every later slot runs phase 1 again, and Multi-Paxos saves nothing.',
    breaks: 'a leader keeps its term while unsuperseded and proposes with phase 2 only',
    reveal: { faults: [], params: { proposers: [1], slots: 2 } },
    machine: () => withGuards(() => ({ superseded: ({ context }) => context.term !== 0 && context.promised >= context.term })),
    durable: consensusDurable,
  },
  {
    name: 'past-max-slot',
    description: 'A node takes a client\'s proposal whatever slot the client allows: a node that learned the last allowed slot places the value in a later one.',
    breaks: "a proposal is placed exactly when a slot up to the client's maxSlot is free",
    reveal: { faults: [] },
    machine: () =>
      withGuards(() => ({
        canPropose: ({ event }) => event.type === 'client.propose',
        leads: ({ context, event }) => context.term !== 0 && event.type === 'client.propose',
      })),
    durable: consensusDurable,
  },
  {
    name: 'unnoted-accept',
    description: 'A node accepts a commit without noting it: its trace does not show what it voted for.',
    breaks: 'a node notes each value it accepts and acks only what it holds',
    reveal: { faults: [], params: { proposers: [1] } },
    machine: () => consensusMachine({ ...verified, noteAccepted: false }),
    durable: consensusDurable,
  },
  {
    name: 'skip-round',
    description: 'A proposer campaigns one round further than its next term above its promise.',
    breaks: 'a campaign is in the next term of the node above its promise',
    reveal: { faults: [], params: { proposers: [1] } },
    machine: () => consensusMachine({ ...verified, campaignTerm: 'skip' }),
    durable: consensusDurable,
  },
  {
    name: 'leader-ignores-decided',
    description: 'A leader with no attempt running that learns a rival\'s decision keeps its term: it records the value and goes on proposing with phase 2 only.',
    breaks: 'a proposer or leader that learns a decision from another gives up its term',
    reveal: { faults: [], params: { proposers: [1, 2], slots: 2 } },
    machine: () => withGuards(({ endsAttempt }) => ({ endsAttempt: (args, params) => endsAttempt(args, params) && !(args.context.slot === 0 && args.context.term !== 0) })),
    durable: consensusDurable,
  },
]);

/** The most slots a check may ask for: each slot's proposals multiply the space. */
const MAX_SLOTS = 5;

/** The values clients propose, by node: the seed's `scale_up` first. */
export const PROPOSAL_VALUES = ['scale_up', 'scale_down', 'scale_out', 'scale_in', 'hold', 'drain', 'restart'];
/** The value node `id`'s client proposes the `k`-th time (k = 0, 1, ...): distinct, so each answer names its request. */
export const proposalOf = (id: number, k = 0) => PROPOSAL_VALUES[(id - 1) % PROPOSAL_VALUES.length] + (k === 0 ? '' : `-${k + 1}`);

/** The slots the checker's clients fill (\`params.slots\`, default 1: the seed's single decision). */
export const slotsOf = (config: ProtocolConfig) => (config.params.slots ?? 1) as number;

/** What is wrong with the node list `params[name]` (default `fallback`), if anything. */
function checkNodeList(config: ProtocolConfig, name: string, fallback: number[]): string | undefined {
  const raw = config.params[name] ?? fallback;
  if (!Array.isArray(raw) || !raw.every((id) => Number.isInteger(id) && id >= 1 && id <= config.nodes)) {
    return `consensus params.${name} must list node ids from 1 to ${config.nodes}, got ${JSON.stringify(raw)}`;
  }
  return undefined;
}

/** What is wrong with `params.proposers` and `params.readers`, if anything. */
const checkProposers = (config: ProtocolConfig) => checkNodeList(config, 'proposers', [1]) ?? checkNodeList(config, 'readers', []) ?? checkSlots(config);

/** What is wrong with \`params.slots\`, if anything. */
function checkSlots(config: ProtocolConfig): string | undefined {
  const slots = config.params.slots ?? 1;
  return Number.isInteger(slots) && (slots as number) >= 1 && (slots as number) <= MAX_SLOTS ? undefined : `consensus params.slots must be a whole number from 1 to ${MAX_SLOTS}, got ${JSON.stringify(slots)}`;
}

/** The nodes a client reads the decision from (`params.readers`, default none): once each, unless it proposes there. */
const readers = (config: ProtocolConfig) => (config.params.readers ?? []) as number[];

/** The nodes clients ask to propose (`params.proposers`, default node 1 only). */
export function proposers(config: ProtocolConfig): number[] {
  const problem = checkProposers(config);
  if (problem) throw new Error(problem);
  return (config.params.proposers ?? [1]) as number[];
}

function sampleEvents(config: ProtocolConfig): { type: string }[] {
  const events: ConsensusEvent[] = [{ type: 'client.propose', value: proposalOf(1) }, { type: 'consensus_timeout' }];
  const values = [proposalOf(1), proposalOf(2)];
  const slot = 1;
  for (let from = 2; from <= Math.min(config.nodes, 3); from++) {
    for (let term = 1; term <= 2 * config.nodes; term++) {
      events.push({ type: 'propose', term, slot, value: values[1], from }, { type: 'ack', term, slot, from });
      events.push({ type: 'promise', term, slot, accepted: [], from });
      for (const value of values) {
        events.push({ type: 'commit', term, slot, value, from }, { type: 'decided', term, slot, value, from });
        if (term > 1) events.push({ type: 'promise', term, slot, accepted: [{ slot, term: term - 1, value }], from });
      }
    }
  }
  return events;
}

export const consensus: Protocol = {
  name: 'consensus',
  description: 'Consensus over a log of slots: the seed\'s propose, promise, commit, ack, verified as Paxos (Paxos Made Simple), a leader skipping phase 1 for later slots.',
  variants: consensusVariants,
  defaultVariant: 'paxos',
  properties: consensusProperties,
  /**
   * 3 nodes, 2 competing proposers (the fewest that can disagree), loss, duplication and
   * reordering, at most 4 messages in flight (both proposers' broadcasts at once), one term per
   * proposer expanded (a retry's first world is checked, not expanded; walks are unbounded):
   * 203,294 distinct states, a few seconds. Crash/restart is checked by two `alsoCheck`
   * configurations (a crash before a leader's flush included), in the tests, by the reveals of
   * `volatile-acceptor`, `restart-idle` and `ack-before-flush`, and by mutation analysis (mutation.json).
   */
  defaults: {
    nodes: 3,
    network: 'unordered',
    faults: ['loss', 'dup'],
    maxRound: 0,
    maxInFlight: 4,
    maxDrops: 1,
    maxDuplicates: 1,
    maxCrashes: 1,
    params: { proposers: [1, 2] },
  },
  // Both proposers' broadcasts at once.
  defaultsFor: (n) => ({ maxInFlight: Math.max(4, 2 * (n - 1)) }),
  // Stale acks need a retry round to be counted; some promise bugs need a third proposer; slot bugs a second slot.
  alsoCheck: [
    { why: 'a retry round: terms of round 1 expanded, no fault', config: { faults: [], maxRound: 1 } },
    { why: 'three proposers, no fault', config: { faults: [], params: { proposers: [1, 2, 3] } } },
    // Many decisions: a leader skips phase 1 for its next slot, a rival's phase 1 reports what it accepted in later slots.
    { why: 'two slots: each proposer\'s client proposes twice, no fault', config: { faults: [], params: { slots: 2 } } },
    { why: 'three slots, one proposer leading them all, duplication', config: { faults: ['dup'], params: { proposers: [1], slots: 3 } } },
    // A leader sends its commit while its own acceptance is written (beforeFlush): a crash may land before that flush.
    { why: 'a crash, before a flush too: two proposers', config: { faults: ['crash'] } },
    { why: 'a crash, before a flush too: two slots, one leader skipping phase 1', config: { faults: ['crash'], params: { proposers: [1], slots: 2 } } },
  ],
  params: {
    proposers: { type: 'ints', min: 1, max: 'nodes', description: 'the nodes clients ask to propose' },
    readers: { type: 'ints', min: 1, max: 'nodes', description: 'the nodes a client reads the decisions from, once (a proposer is asked to propose instead)' },
    slots: { type: 'int', min: 1, max: MAX_SLOTS, description: 'the slots of the log the clients fill: each proposer\'s client proposes that many values, one after another, none beyond the last slot' },
  },
  ghost: consensusGhost,
  round: (c: ConsensusContext) => roundOfTerm(c.promised ?? 0, c.n),
  // The bound counts rounds of n terms each; a node's status names the term (ballot) it is in.
  statusRound: (c: ConsensusContext) => c.promised ?? 0,
  timerJitter: { consensus: 2 },
  checkParams: checkProposers,
  // A proposer's client proposes once per slot, allowing no slot beyond the bound; a reader reads once.
  clients: (node, used, config) => {
    if (proposers(config).includes(node.id)) return used < slotsOf(config) ? [{ type: 'client.propose', value: proposalOf(node.id, used), maxSlot: slotsOf(config) }] : [];
    return used < 1 && readers(config).includes(node.id) ? [{ type: 'client.get' }] : [];
  },
  sampleEvents,
  types: { file: 'machines/consensus/messages.ts', message: 'ConsensusMessage', client: 'ConsensusClient', note: 'ConsensusNote' },
};
