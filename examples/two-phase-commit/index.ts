/** Two-phase commit as a coordkit Protocol; `coordkit check --protocol dist/examples/two-phase-commit/index.js`. */
import type { NodeView, Property, Protocol, WorldView } from '../../src/index.js';
import { mayCommit, TM, twoPhaseCommitMachine } from './machine.js';

const some = (w: WorldView, state: string) => w.nodes.some((n: NodeView) => n.state === state);

/** TCConsistent in the TLA+ spec: it reads the RMs' states, as the spec reads rmState. */
const consistent: Property = {
  name: 'no resource manager commits while another aborts',
  kind: 'always',
  holds: (w) => !(some(w, 'rm.committed') && some(w, 'rm.aborted')),
};
const someCommit: Property = { name: 'a transaction commits', kind: 'sometimes', holds: (w) => some(w, 'rm.committed') };
const someAbort: Property = { name: 'a transaction aborts', kind: 'sometimes', holds: (w) => some(w, 'rm.aborted') };

const protocol: Protocol = {
  name: 'two-phase-commit',
  description: "Gray & Lamport's two-phase commit: a transaction manager (node 1) and n-1 resource managers.",
  defaultVariant: 'two-phase',
  variants: [
    { name: 'two-phase', description: 'The TM commits only when every RM has prepared.', machine: twoPhaseCommitMachine({ commitEarly: false }), durable: () => ({}) },
    {
      name: 'commit-early',
      description: 'The TM commits as soon as one RM has prepared.',
      breaks: 'no resource manager commits while another aborts',
      machine: twoPhaseCommitMachine({ commitEarly: true }),
      durable: () => ({}),
    },
  ],
  properties: [consistent, someCommit, someAbort],
  // The spec's msgs is a set that only grows: the duplicating network keeps every message
  // deliverable for ever. At most 2 (n - 1) messages exist (a prepared from each RM, the
  // decision to each): the bound below cuts nothing up to 16 nodes.
  defaults: { nodes: 4, network: 'unordered-duplicating', faults: [], maxInFlight: 30 },
  // For `coordkit schemas`: relative to this module (compiled, to the machine.d.ts beside it).
  types: { file: './machine.ts', message: 'TpcMessage', client: 'TpcClient', note: 'TpcNote' },
  // The properties read node states, not notes: no note is kept in the world.
  ghost: [],
  // The spec's actions that receive no message, enabled by the node's state alone.
  spontaneous: (node) => {
    if (node.id === TM) return node.state === 'tm.init' ? [...(mayCommit(node.context) ? [{ type: 'client.commit' }] : []), { type: 'client.abort' }] : [];
    return node.state === 'rm.working' ? [{ type: 'client.prepare' }, { type: 'client.abort' }] : [];
  },
};

export default protocol;
