/** Every registered primitive. Add one line to register a new one. */
import type { Protocol } from '../src/protocol.js';
import { election } from './election/index.js';

export const protocols: Protocol[] = [election];
