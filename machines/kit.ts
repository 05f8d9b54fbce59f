/**
 * The kit's primitives by name, each loaded only when asked for: a node loads the one it runs,
 * not the machines of the others (building a machine costs milliseconds of CPU at import).
 * Names and order are those of `protocols` in index.ts; a test holds the two together.
 */
import type { Protocol } from '../src/protocol.js';

export const kitLoaders: Record<string, () => Promise<Protocol>> = {
  election: async () => (await import('./election/index.js')).election,
  consensus: async () => (await import('./consensus/index.js')).consensus,
  mutex: async () => (await import('./mutex/index.js')).mutex,
  barrier: async () => (await import('./barrier/index.js')).barrier,
};
