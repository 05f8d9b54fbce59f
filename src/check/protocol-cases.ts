/**
 * A primitive's whole check as a list of named cases, each a function that returns or throws
 * with a readable counterexample and its replay command: one case per property of the verified
 * (default) variant by exploration and one by walk, and one per buggy variant asserting the
 * violation it declares. `coordkit/vitest` turns the list into a test suite; any other runner can
 * call the cases itself.
 *
 * The verified variant is explored once and walked once, whichever case asks first, and every
 * property's case reads that one result. A case passes only for what its search established: an
 * exploration cut short by `maxStates` fails every explore case, and a walk stopped by one
 * property's failing run fails the walk cases of the others, each naming why.
 */
import type { CheckConfig, Protocol } from '../protocol.js';
import { describeRun } from './describe-run.js';
import { explore, type ExploreResult } from './explore.js';
import { createModel, type Model } from './model.js';
import type { Violation } from './violation.js';
import { walk, type WalkResult } from './walk.js';

export interface ProtocolCaseOptions {
  /** Model overrides for every variant (nodes, network, faults, bounds, params). */
  config?: Partial<CheckConfig>;
  /** Distinct worlds an exploration may visit before it is cut short (default 1,000,000). */
  maxStates?: number;
  /** Random runs of the walk (default 1,000). */
  runs?: number;
  /** The walk's seed (default: random, printed in a failure's replay command). */
  seed?: number;
  /**
   * The compiled module `coordkit check --protocol` loads this protocol from (e.g.
   * `dist/protocol.js`), so that a failure's replay command runs as printed.
   */
  protocolFile?: string;
}

export interface ProtocolCase {
  /** What the case establishes, e.g. `lamport: always mutual exclusion (explore)`. */
  name: string;
  /** Returns when the case holds; throws an Error whose message explains the failure. */
  run(): void;
}

export const DEFAULT_MAX_STATES = 1_000_000;

function once<T>(compute: () => T): () => T {
  let value: { v: T } | undefined;
  return () => (value ??= { v: compute() }).v;
}

function replayOf(v: Violation, protocol: Protocol, file: string | undefined): string {
  const builtIn = `coordkit check ${protocol.name} `;
  return file && v.replay.startsWith(builtIn) ? `coordkit check --protocol ${file} ${v.replay.slice(builtIn.length)}` : v.replay;
}

function explain(v: Violation, model: Model, file: string | undefined): string {
  const what = v.steps.length ? describeRun(v.steps, model.config.nodes) : ['no reachable world satisfies it'];
  return [`'${v.invariant}' violated (${v.mode}, variant ${model.variant.name}, ${model.config.nodes} nodes):`, ...what, `replay: ${replayOf(v, model.protocol, file)}`].join('\n');
}

function cutShort(result: ExploreResult, maxStates: number): string | undefined {
  return result.complete ? undefined : `the exploration was cut short at ${result.states.toLocaleString('en-US')} states (maxStates ${maxStates.toLocaleString('en-US')}): raise maxStates or lower the bounds`;
}

export function protocolCases(protocol: Protocol, options: ProtocolCaseOptions = {}): ProtocolCase[] {
  const maxStates = options.maxStates ?? DEFAULT_MAX_STATES;
  const file = options.protocolFile;
  const verified = createModel(protocol, { ...options.config, variant: protocol.defaultVariant });
  const explored = once(() => explore(verified, { maxStates, all: true }));
  const walked = once((): WalkResult => walk(verified, { runs: options.runs, seed: options.seed }));
  const cases: ProtocolCase[] = [];
  for (const p of protocol.properties) {
    const label = `${verified.variant.name}: ${p.kind} ${p.name}`;
    cases.push({
      name: `${label} (explore)`,
      run() {
        const result = explored();
        const v = result.violations.find((x) => x.invariant === p.name);
        if (v) throw new Error(explain(v, verified, file));
        const cut = cutShort(result, maxStates);
        if (cut) throw new Error(`'${p.name}' not established: ${cut}`);
      },
    });
    cases.push({
      name: `${label} (walk)`,
      run() {
        const result = walked();
        const v = result.violations.find((x) => x.invariant === p.name);
        if (v) throw new Error(explain(v, verified, file));
        const other = result.violations[0];
        if (other && other.kind !== 'sometimes') throw new Error(`'${p.name}' not established: the walk stopped at a run violating '${other.invariant}'`);
      },
    });
  }
  for (const variant of protocol.variants) {
    if (!variant.breaks) continue;
    const expected = variant.breaks;
    cases.push({
      name: `${variant.name}: breaks ${expected} (explore)`,
      run() {
        const model = createModel(protocol, { ...options.config, variant: variant.name });
        const result = explore(model, { maxStates });
        const v = result.violations[0];
        if (v?.invariant === expected) return;
        if (v) throw new Error(`expected '${expected}' to be violated, found another violation first:\n${explain(v, model, file)}`);
        throw new Error(`expected '${expected}' to be violated, but ${cutShort(result, maxStates) ?? `every one of the ${result.states.toLocaleString('en-US')} reachable states satisfies it`}`);
      },
    });
  }
  return cases;
}
