/** Two-phase commit as a coordkit Protocol; `coordkit check --protocol dist/examples/two-phase-commit/index.js`. */
import type { GhostNote, Property, Protocol, WorldView } from '../../src/index.js';
import { TM, twoPhaseCommitMachine, type TpcNote } from './machine.js';

const decided = (w: WorldView, type: TpcNote['type']) => w.history.some((h: GhostNote<TpcNote>) => h.note.type === type);

/** TCConsistent in the TLA+ spec. */
const consistent: Property = {
  name: 'no resource manager commits while another aborts',
  kind: 'always',
  holds: (w) => !(decided(w, 'committed') && decided(w, 'aborted')),
};
const someCommit: Property = { name: 'a transaction commits', kind: 'sometimes', holds: (w) => decided(w, 'committed') };
const someAbort: Property = { name: 'a transaction aborts', kind: 'sometimes', holds: (w) => decided(w, 'aborted') };

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
  defaults: { nodes: 4, network: 'unordered', faults: [], maxInFlight: 8 },
  // For `coordkit schemas`: relative to this module (compiled, to the machine.d.ts beside it).
  types: { file: './machine.ts', message: 'TpcMessage', client: 'TpcClient', note: 'TpcNote' },
  // Each node makes at most one spontaneous move.
  clients: (node, used) => {
    if (used > 0) return [];
    if (node.id === TM) return node.state === 'tm.init' ? [{ type: 'client.abort' }] : [];
    return node.state === 'rm.working' ? [{ type: 'client.prepare' }, { type: 'client.abort' }] : [];
  },
};

export default protocol;
