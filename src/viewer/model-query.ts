/**
 * A model named by a URL's query (`variant`, `nodes`, `network`, `faults`), over the defaults the
 * explorer was started with, and back: a link carries everything that fixes the run.
 */
import { FAULTS, NETWORKS, type CheckConfig, type FaultName, type NetworkName, type Protocol } from '../protocol.js';
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
  };
  const model = createModel(protocol, overrides);
  const problem = protocol.checkParams?.(model.config);
  if (problem) throw new Error(problem);
  return model;
}

/** The query that names `model` (and, when given, a run in it). */
export function modelQuery(model: Model, path?: readonly number[]): string {
  const { config } = model;
  const q = new URLSearchParams({ protocol: model.protocol.name, variant: config.variant, nodes: String(config.nodes), network: config.network, faults: config.faults.join(',') || 'none' });
  let s = q.toString();
  if (path) s += `&path=${path.join(':')}`;
  return s;
}
