/**
 * The exact `coordkit check` command line that reproduces a model; for walks, with the seed and
 * fast-check path of the failing run (exploration is deterministic and needs neither).
 */
import { createModel, type Model } from './model.js';
import type { CheckConfig, FaultName } from '../protocol.js';
import { canonical } from '../canonical.js';

/** Each bound, its flag, and the fault it budgets (a budget only counts with its fault on). */
const BOUND_FLAGS: [keyof CheckConfig & `max${string}`, string, FaultName?][] = [
  ['maxDepth', 'max-depth'],
  ['maxInFlight', 'max-in-flight'],
  ['maxRound', 'max-round'],
  ['maxCrashes', 'max-crashes', 'crash'],
  ['maxDrops', 'max-drops', 'loss'],
  ['maxDuplicates', 'max-duplicates', 'dup'],
  ['maxPartitions', 'max-partitions', 'partition'],
];

export function replayCommand(model: Model, mode: 'explore' | 'walk', path?: string, seed?: number): string {
  const { protocol, config } = model;
  const parts = ['coordkit check', protocol.name, `--variant ${config.variant}`, `--nodes ${config.nodes}`, `--network ${config.network}`];
  parts.push(`--faults ${config.faults.length ? config.faults.join(',') : 'none'}`);
  // Bounds the command line would not set by itself (the same nodes, faults and variant).
  const base = createModel(protocol, { variant: config.variant, nodes: config.nodes, faults: config.faults }).config;
  for (const [key, flag, fault] of BOUND_FLAGS) {
    if (config[key] !== base[key] && (!fault || config.faults.includes(fault))) parts.push(`--${flag} ${config[key]}`);
  }
  if (!config.symmetry) parts.push('--symmetry off');
  const defaults = protocol.defaults.params ?? {};
  for (const [name, value] of Object.entries(config.params)) {
    if (canonical(value) !== canonical(defaults[name])) parts.push(`--param ${name}=${Array.isArray(value) ? value.join(',') : JSON.stringify(value)}`);
  }
  parts.push(`--mode ${mode}`);
  if (seed !== undefined) parts.push(`--seed=${seed}`);
  if (path) parts.push(`--path ${path}`);
  return parts.join(' ');
}
