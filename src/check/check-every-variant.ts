/**
 * Checks every primitive's verified variant (explore and walk, and explore in each configuration
 * the primitive also checks by default) and every buggy variant (explore, at the configuration
 * that reveals it). What `npm start` and `coordkit report` run.
 */
import type { Protocol } from '../protocol.js';
import { createModel } from './model.js';
import { runChecks, type CheckReport } from './run-checks.js';

export interface EveryVariantOptions {
  runs?: number;
  maxStates?: number;
  seed?: number;
  progress?: boolean;
  /** Called before each model is checked. */
  onStart?: (primitive: string, variant: string) => void;
}

export interface EveryVariantResult {
  reports: CheckReport[];
  /** Models whose check could not run, one line each. */
  failures: string[];
}

export function checkEveryVariant(protocols: readonly Protocol[], options: EveryVariantOptions = {}): EveryVariantResult {
  const reports: CheckReport[] = [];
  const failures: string[] = [];
  for (const protocol of protocols) {
    for (const variant of protocol.variants) {
      const isDefault = variant.name === protocol.defaultVariant;
      options.onStart?.(protocol.name, variant.name);
      try {
        const model = createModel(protocol, { variant: variant.name });
        // A buggy variant need only show its bug: its search stops once its named property is
        // violated. A violation of another property (a bug may break more than the one it is
        // named for) is reported and the search goes on, until the named one or the space's end.
        const buggy = isDefault ? {} : variant.breaks ? { all: true, until: variant.breaks } : { all: false };
        reports.push(runChecks(model, { mode: isDefault ? 'both' : 'explore', runs: options.runs, maxStates: options.maxStates, seed: options.seed, progress: options.progress, ...buggy }));
        if (isDefault) {
          for (const also of protocol.alsoCheck ?? []) {
            const more = createModel(protocol, { ...also.config, variant: variant.name });
            reports.push(runChecks(more, { mode: 'explore', maxStates: options.maxStates, progress: options.progress }));
          }
        }
      } catch (err) {
        failures.push(`${protocol.name} ${variant.name}: ${(err as Error).message.split('\n')[0]}`);
      }
    }
  }
  return { reports, failures };
}
