/**
 * One call for a user's CI suite: explore (and walk) a primitive's variant and say what broke,
 * with a readable counterexample, e.g. in vitest:
 *
 *   const verdict = checkProtocol(myProtocol, { nodes: 3 });
 *   expect(verdict.violated, verdict.explanation).toEqual([]);
 */
import type { CheckConfig, Protocol } from '../protocol.js';
import { describeRun } from './describe-run.js';
import { createModel } from './model.js';
import { runChecks, type CheckReport } from './run-checks.js';

export interface ProtocolVerdict {
  /** Names of the violated properties (empty when everything holds). */
  violated: string[];
  /** Each violation's shortest run, step by step, and its replay command. */
  explanation: string;
  report: CheckReport;
}

export function checkProtocol(protocol: Protocol, overrides: Partial<CheckConfig> = {}, mode: 'explore' | 'walk' | 'both' = 'explore'): ProtocolVerdict {
  const model = createModel(protocol, overrides);
  const report = runChecks(model, { mode });
  const explanation = report.violations
    .map((v) => [`'${v.invariant}' violated (${v.mode}):`, ...describeRun(v.steps, model.config.nodes), `replay: ${v.replay}`].join('\n'))
    .join('\n\n');
  return { violated: [...new Set(report.violations.map((v) => v.invariant))], explanation, report };
}
