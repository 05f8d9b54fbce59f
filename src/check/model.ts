/** Resolves a primitive, a variant and user overrides into one finite model to check. */
import type { CheckConfig, Protocol, Variant } from '../protocol.js';

export const KIT_DEFAULTS: CheckConfig = {
  nodes: 3,
  variant: '',
  network: 'unordered',
  faults: [],
  maxRound: 2,
  maxInFlight: 6,
  maxCrashes: 1,
  maxDrops: 2,
  maxDuplicates: 1,
  maxPartitions: 1,
  maxDepth: 0,
  symmetry: true,
  livenessSteps: 400,
  params: {},
};

export interface Model {
  protocol: Protocol;
  variant: Variant;
  config: CheckConfig;
}

export function findVariant(protocol: Protocol, name: string): Variant | undefined {
  return protocol.variants.find((v) => v.name === name);
}

/**
 * Kit defaults, then the primitive's (and those for the node count; with faults: its fault
 * bounds), then what reveals the variant's bug, then the user's.
 */
export function createModel(protocol: Protocol, overrides: Partial<CheckConfig> = {}): Model {
  const variantName = overrides.variant || protocol.defaultVariant;
  const variant = findVariant(protocol, variantName);
  if (!variant) {
    throw new Error(`unknown variant '${variantName}' of ${protocol.name} (choose from: ${protocol.variants.map((v) => v.name).join(', ')})`);
  }
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const faults = overrides.faults ?? variant.reveal?.faults ?? protocol.defaults.faults ?? KIT_DEFAULTS.faults;
  const nodes = overrides.nodes ?? variant.reveal?.nodes ?? protocol.defaults.nodes ?? KIT_DEFAULTS.nodes;
  const config: CheckConfig = {
    ...KIT_DEFAULTS,
    ...protocol.defaults,
    ...protocol.defaultsFor?.(nodes),
    ...(faults.length ? protocol.faultBounds : undefined),
    ...variant.reveal,
    ...defined,
    variant: variant.name,
    params: { ...KIT_DEFAULTS.params, ...protocol.defaults.params, ...variant.reveal?.params, ...overrides.params },
  };
  return { protocol, variant, config };
}
