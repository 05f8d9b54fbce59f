/**
 * The whole check as tests: every property of the verified variant (explored and walked) and the
 * violation each buggy variant declares. A failure prints the run and the command replaying it.
 */
import { protocolSuite } from 'coordkit/vitest';
import protocol from './protocol.js';

protocolSuite(protocol, { protocolFile: 'dist/protocol.js' });
protocolSuite(protocol, { protocolFile: 'dist/protocol.js', config: { nodes: 4 } });
