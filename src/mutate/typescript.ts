/**
 * The TypeScript compiler API, for parsing the sources mutation analysis changes. The kit's own
 * build uses a TypeScript without a JavaScript API; the schema generator depends on one that has
 * it (and re-exports its types), so it is loaded from there, and only by the commands that parse
 * sources: no node process or check loads it.
 */
import { createRequire } from 'node:module';
import type { ts } from 'typescript-json-schema';

export type TypeScriptApi = typeof ts;

let loaded: TypeScriptApi | undefined;

export function typescript(): TypeScriptApi {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  loaded = createRequire(require.resolve('typescript-json-schema'))('typescript') as TypeScriptApi;
  return loaded;
}
