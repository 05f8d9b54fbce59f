/** Finds a primitive by name among the registered ones, or loads a user's from a module file. */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { protocols } from '../../machines/index.js';
import type { Protocol } from '../protocol.js';
import { UsageError } from './usage-error.js';

/** The module the registered primitives come from, for explore threads to load them. */
export const REGISTRY_MODULE = new URL('../../machines/index.js', import.meta.url).href;

/** The module a `--protocol FILE` comes from. */
export const protocolModule = (file: string) => pathToFileURL(resolve(file)).href;

export function registered(): Protocol[] {
  return protocols;
}

export function findProtocol(name: string | undefined): Protocol {
  const names = protocols.map((p) => p.name);
  if (!name) throw new UsageError(`name a primitive (choose from: ${names.join(', ')}) or give --protocol FILE`);
  const found = protocols.find((p) => p.name === name);
  if (!found) throw new UsageError(`unknown primitive '${name}' (choose from: ${names.join(', ')})`);
  return found;
}

/** A user's primitive: an ES module whose default (or `protocol`) export is a Protocol. */
export async function loadProtocol(file: string): Promise<Protocol> {
  let mod: Record<string, unknown>;
  try {
    mod = await import(protocolModule(file));
  } catch (err) {
    throw new UsageError(`cannot load --protocol ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  const p = (mod.default ?? mod.protocol) as Protocol | undefined;
  if (!p || typeof p !== 'object' || !Array.isArray(p.variants) || !Array.isArray(p.properties)) {
    throw new UsageError(`--protocol ${file} must export a Protocol as default or as 'protocol'`);
  }
  return p;
}
