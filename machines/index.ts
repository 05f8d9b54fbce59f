/** Every registered primitive. Add one line to register a new one. */
import type { Protocol } from '../src/protocol.js';
import { barrier } from './barrier/index.js';
import { consensus } from './consensus/index.js';
import { election } from './election/index.js';
import { mutex } from './mutex/index.js';

export const protocols: Protocol[] = [election, consensus, mutex, barrier];
