/**
 * A model named by a URL's query (`variant`, `nodes`, `network`, `faults`, and `params` as JSON:
 * the primitive's knobs that differ from its defaults), over the defaults the explorer was
 * started with, and back: a link carries everything that fixes the run.
 */
import { FAULTS, NETWORKS, type CheckConfig, type FaultName, type NetworkName, type Protocol } from '../protocol.js';
import { canonical } from '../canonical.js';
import { createModel, type Model } from '../check/model.js';
import { choiceArg, intArg, listArg } from '../cli/usage-error.js';

/** Throws one line naming the query field when it is wrong. */
export function modelFromQuery(protocol: Protocol, defaults: Partial<CheckConfig>, query: URLSearchParams): Model {
  const field = (name: string) => query.get(name) ?? undefined;
  const overrides: Partial<CheckConfig> = {
    ...defaults,
    variant: choiceArg('variant', field('variant'), protocol.variants.map((v) => v.name)) ?? defaults.variant,
    nodes: intArg('nodes', field('nodes'), 2, 7) ?? defaults.nodes,
    network: choiceArg<NetworkName>('network', field('network'), NETWORKS) ?? defaults.network,
    faults: listArg<FaultName>('fault', field('faults'), FAULTS) ?? defaults.faults,
    params: { ...defaults.params, ...paramsFromQuery(protocol, field('params')) },
  };
  const model = createModel(protocol, overrides);
  const problem = protocol.checkParams?.(model.config);
  if (problem) throw new Error(problem);
  return model;
}

function paramsFromQuery(protocol: Protocol, raw: string | undefined): Record<string, unknown> | undefined {
  if (raw === undefined) return undefined;
  let params: unknown;
  try {
    params = JSON.parse(raw);
  } catch {
    throw new Error(`malformed params '${raw.slice(0, 80)}': expected a JSON object like {"requests":2}`);
  }
  if (typeof params !== 'object' || params === null || Array.isArray(params)) throw new Error(`malformed params '${raw.slice(0, 80)}': expected a JSON object like {"requests":2}`);
  const known = new Set([...Object.keys(protocol.defaults.params ?? {}), ...protocol.variants.flatMap((v) => Object.keys(v.reveal?.params ?? {}))]);
  for (const name of Object.keys(params)) if (!known.has(name)) throw new Error(`unknown param '${name.slice(0, 40)}' of ${protocol.name} (choose from: ${[...known].join(', ') || 'none'})`);
  return params as Record<string, unknown>;
}

/** The query that names `model` (and, when given, a run in it). */
export function modelQuery(model: Model, path?: readonly number[]): string {
  const { config } = model;
  const q = new URLSearchParams({ protocol: model.protocol.name, variant: config.variant, nodes: String(config.nodes), network: config.network, faults: config.faults.join(',') || 'none' });
  const defaults = model.protocol.defaults.params ?? {};
  const changed = Object.entries(config.params).filter(([name, value]) => canonical(value) !== canonical(defaults[name]));
  if (changed.length) q.set('params', JSON.stringify(Object.fromEntries(changed)));
  let s = q.toString();
  if (path) s += `&path=${path.join(':')}`;
  return s;
}
