/** The protocol the kit checks: variants, properties, client requests, bounds. */
import { fileURLToPath } from 'node:url';
import type { GhostNote, Property, Protocol, WorldView } from 'coordkit';
import { broadcastMachine } from './machine.js';
import type { BroadcastNote } from './messages.js';

const noted = (w: WorldView, type: BroadcastNote['type']) => w.history.filter((h: GhostNote<BroadcastNote>) => h.note.type === type);

/** Safety: checked in every reachable world. Reads only the ghost history (every note ever). */
const heardBeforeComplete: Property = {
  name: 'complete only once every node heard',
  kind: 'always',
  reads: 'history',
  holds: (w) => noted(w, 'complete').length === 0 || noted(w, 'heard').length === w.n - 1,
};
/** Not vacuous: some run completes. */
const completes: Property = { name: 'an announcement completes', kind: 'sometimes', holds: (w) => noted(w, 'complete').length > 0 };

const protocol: Protocol = {
  name: '{{name}}',
  description: 'Acknowledged broadcast: node 1 announces, every node acknowledges, node 1 completes.',
  defaultVariant: 'all-acks',
  variants: [
    { name: 'all-acks', description: 'Completes when every other node acknowledged.', machine: broadcastMachine({ completeEarly: false }), durable: () => ({}) },
    {
      name: 'first-ack',
      description: 'Completes on the first acknowledgment.',
      // The property the checker must find violated: `coordkit check` and the tests expect it.
      breaks: 'complete only once every node heard',
      machine: broadcastMachine({ completeEarly: true }),
      durable: () => ({}),
    },
  ],
  properties: [heardBeforeComplete, completes],
  defaults: { nodes: 3, network: 'unordered', faults: [] },
  // Client requests the checker tries in every world: node 1 announces once.
  clients: (node, used) => (node.id === 1 && node.state === 'ready' && used === 0 ? [{ type: 'client.announce' }] : []),
  // Where `coordkit schemas` finds the wire types.
  types: { file: fileURLToPath(new URL('../src/messages.ts', import.meta.url)), message: 'BroadcastMessage', client: 'BroadcastClient', note: 'BroadcastNote' },
};

export default protocol;
