/**
 * The exact `coordkit check` command line that reproduces a model; for walks, with the seed and
 * fast-check path of the failing run (exploration is deterministic and needs neither).
 */
import type { Model } from './model.js';
import { KIT_DEFAULTS } from './model.js';
import { canonical } from '../canonical.js';

export function replayCommand(model: Model, mode: 'explore' | 'walk', path?: string, seed?: number): string {
  const { protocol, config } = model;
  const parts = ['coordkit check', protocol.name, `--variant ${config.variant}`, `--nodes ${config.nodes}`, `--network ${config.network}`];
  parts.push(`--faults ${config.faults.length ? config.faults.join(',') : 'none'}`);
  if (config.maxDepth !== KIT_DEFAULTS.maxDepth) parts.push(`--max-depth ${config.maxDepth}`);
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
