/** The exact `coordkit check` command line that reproduces a model (and a run within it). */
import type { Model } from './model.js';
import { KIT_DEFAULTS } from './model.js';

export function replayCommand(model: Model, mode: 'explore' | 'walk', path?: readonly number[] | string, seed?: number): string {
  const { protocol, config } = model;
  const parts = ['coordkit check', protocol.name, `--variant ${config.variant}`, `--nodes ${config.nodes}`, `--network ${config.network}`];
  parts.push(`--faults ${config.faults.length ? config.faults.join(',') : 'none'}`);
  if (config.maxDepth !== KIT_DEFAULTS.maxDepth) parts.push(`--max-depth ${config.maxDepth}`);
  parts.push(`--mode ${mode}`);
  if (seed !== undefined) parts.push(`--seed=${seed}`);
  if (path !== undefined && (typeof path === 'string' ? path : path.length)) {
    parts.push(`--path ${typeof path === 'string' ? path : path.join(':')}`);
  }
  return parts.join(' ');
}
