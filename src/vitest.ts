/**
 * `coordkit/vitest`: a primitive's whole check as a vitest suite, for a user's CI:
 *
 *   import { protocolSuite } from 'coordkit/vitest';
 *   import protocol from './protocol.js';
 *
 *   protocolSuite(protocol, { protocolFile: 'dist/protocol.js' });
 *
 * One test per property of the verified (default) variant by exploration and one by walk, and one
 * per buggy variant asserting the violation it declares (`breaks`). A failing test prints the run
 * step by step and the `coordkit check` command that replays it. vitest is a peer dependency of
 * this entry point only.
 */
import { describe, it } from 'vitest';
import { createModel } from './check/model.js';
import { protocolCases, type ProtocolCaseOptions } from './check/protocol-cases.js';
import type { Protocol } from './protocol.js';

export interface ProtocolSuiteOptions extends ProtocolCaseOptions {
  /** Per-test timeout in ms (default 120,000; the first test of a variant runs its search). */
  timeoutMs?: number;
}

export function protocolSuite(protocol: Protocol, options: ProtocolSuiteOptions = {}): void {
  const { nodes } = createModel(protocol, options.config).config;
  describe(`${protocol.name}, ${nodes} nodes`, () => {
    for (const c of protocolCases(protocol, options)) it(c.name, () => c.run(), options.timeoutMs ?? 120_000);
  });
}

export { protocolCases, type ProtocolCase, type ProtocolCaseOptions } from './check/protocol-cases.js';
