/**
 * The local modules of a protocol: its module and every file it imports by a relative path,
 * transitively (packages are not followed). A mutant of one of them is loaded by copying that
 * file and every file on an import path from the protocol's module to it, with the copies'
 * other imports pointing back at the originals.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { typescript } from './typescript.js';

export interface ImportRef {
  /** Offsets of the specifier's text, inside its quotes. */
  start: number;
  end: number;
  specifier: string;
  /** The local file it names, when it names one. */
  target?: string;
  /** `import type`: erased when compiled, so it loads nothing. */
  typeOnly: boolean;
}

export interface SourceFile {
  path: string;
  text: string;
  imports: ImportRef[];
}

export interface SourceGraph {
  entry: string;
  files: Map<string, SourceFile>;
}

const EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.mjs', '.cjs'];
const isFile = (p: string) => existsSync(p) && statSync(p).isFile();

/** The file a relative specifier names, as TypeScript and tsx resolve it (`./x.js` may be `./x.ts`). */
function resolveLocal(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier);
  const stem = base.replace(/\.[cm]?js$/, '');
  const candidates = [base, ...EXTENSIONS.map((e) => stem + e), ...EXTENSIONS.map((e) => join(base, `index${e}`))];
  const found = candidates.find(isFile);
  return found && !found.split(/[\\/]/).includes('node_modules') ? found : undefined;
}

function importsOf(path: string, text: string): ImportRef[] {
  const ts = typescript();
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const refs: ImportRef[] = [];
  for (const s of source.statements) {
    if (!(ts.isImportDeclaration(s) || ts.isExportDeclaration(s)) || !s.moduleSpecifier || !ts.isStringLiteral(s.moduleSpecifier)) continue;
    let typeOnly = false;
    if (ts.isImportDeclaration(s)) {
      const clause = s.importClause;
      const named = clause?.namedBindings;
      typeOnly = !!clause && (clause.isTypeOnly || (!clause.name && !!named && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly)));
    } else typeOnly = s.isTypeOnly;
    const specifier = s.moduleSpecifier.text;
    const start = s.moduleSpecifier.getStart(source) + 1;
    refs.push({ start, end: s.moduleSpecifier.end - 1, specifier, typeOnly, target: specifier.startsWith('.') ? resolveLocal(path, specifier) : undefined });
  }
  return refs;
}

/** `outside`: folders whose files are not the protocol's own (the kit's sources), imported as they are. */
export function sourceGraph(entry: string, outside: string[] = []): SourceGraph {
  const files = new Map<string, SourceFile>();
  const visit = (path: string) => {
    if (files.has(path) || outside.some((dir) => path.startsWith(dir + sep))) return;
    const text = readFileSync(path, 'utf8');
    const file = { path, text, imports: importsOf(path, text) };
    files.set(path, file);
    for (const i of file.imports) if (i.target) visit(i.target);
  };
  visit(resolve(entry));
  return { entry: resolve(entry), files };
}

/** The files that must be copied for a mutant of `changed` to be loaded: it and every file importing it (at run time) on a path from the entry. */
export function filesToCopy(graph: SourceGraph, changed: string): Set<string> {
  const copy = new Set<string>([changed]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const f of graph.files.values()) {
      if (copy.has(f.path)) continue;
      if (f.imports.some((i) => !i.typeOnly && i.target && copy.has(i.target))) {
        copy.add(f.path);
        grew = true;
      }
    }
  }
  return copy;
}

/** The files that define a machine (they call `createMachine`): what is mutated unless the user names files. */
export function machineFiles(graph: SourceGraph): string[] {
  return [...graph.files.values()].filter((f) => /\bcreateMachine\s*\(/.test(f.text)).map((f) => f.path);
}
