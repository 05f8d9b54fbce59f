/**
 * Imports an ES module by URL. TypeScript modules (.ts, .mts, .cts) go through tsx, which
 * compiles them in memory, so a protocol written in TypeScript runs without a build step; tsx
 * is loaded only for them, never on the path of a compiled module.
 */
const TYPESCRIPT = /\.(ts|mts|cts)$/;

export const isTypeScript = (pathOrUrl: string): boolean => TYPESCRIPT.test(pathOrUrl.replace(/[?#].*$/, ''));

export async function importModule(url: string): Promise<Record<string, unknown>> {
  if (!isTypeScript(url)) return import(url);
  const { tsImport } = await import('tsx/esm/api');
  const namespace = await tsImport(url, import.meta.url);
  // Outside a `"type": "module"` package tsx compiles to CommonJS: the exports are one level down.
  const exports = namespace.default;
  return exports && typeof exports === 'object' && exports.__esModule ? exports : namespace;
}
