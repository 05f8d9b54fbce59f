/**
 * Where mutants are written: a folder under the protocol's nearest `node_modules/.cache`, so
 * that a copy resolves the same packages (xstate, the kit) as the original, by the same
 * lookup. Each mutant gets a folder holding copies of the files its change reaches (see
 * source-graph.ts), laid out as the originals are; every other import points at the original
 * file (for the kit's own primitives, at its compiled form in `dist/`, which the checker
 * itself runs).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { applyEdits, type Edit } from './mutants.js';
import { filesToCopy, type SourceGraph } from './source-graph.js';

export interface Workspace {
  root: string;
  /** Writes one mutant (no edits: the original, copied the same way) and returns the module to load. */
  write(name: string, changed: string, edits: readonly Edit[]): string;
  remove(name: string): void;
  dispose(): void;
}

export interface WorkspaceOptions {
  graph: SourceGraph;
  /** For a kit primitive: the package root, whose `dist/` holds what every non-copied file compiles to. */
  compiledRoot?: string;
  /** Named export of the protocol when the entry has no default export (a kit primitive's index). */
  exportName?: string;
}

function nearest(from: string, name: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, name))) return join(dir, name);
    if (dirname(dir) === dir) return undefined;
  }
}

function commonDir(paths: string[]): string {
  let dir = dirname(paths[0]);
  while (!paths.every((p) => p.startsWith(dir + sep))) dir = dirname(dir);
  return dir;
}

export function createWorkspace(options: WorkspaceOptions): Workspace {
  const { graph, compiledRoot, exportName } = options;
  const modules = nearest(dirname(graph.entry), 'node_modules');
  if (!modules) throw new Error(`no node_modules folder above ${graph.entry}: install the protocol's packages first`);
  const root = join(modules, '.cache', 'coordkit-mutate', `${process.pid}-${Date.now().toString(36)}`);
  const pkg = nearest(dirname(graph.entry), 'package.json');
  const type = pkg ? (JSON.parse(readFileSync(pkg, 'utf8')).type ?? 'commonjs') : 'commonjs';
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'package.json'), JSON.stringify({ type }) + '\n');

  /** Where a non-copied import points: the original, or what it compiles to. */
  const original = (file: string) => {
    if (!compiledRoot) return file;
    const compiled = join(compiledRoot, 'dist', relative(compiledRoot, file)).replace(/\.[cm]?tsx?$/, '.js');
    return existsSync(compiled) ? compiled : file;
  };

  return {
    root,
    write(name, changed, edits) {
      const copy = filesToCopy(graph, changed);
      copy.add(graph.entry);
      const base = commonDir([...copy]);
      const dir = join(root, name);
      const at = (file: string) => join(dir, relative(base, file));
      for (const path of copy) {
        const file = graph.files.get(path)!;
        const pointers: Edit[] = file.imports
          .filter((i) => !(i.target && copy.has(i.target)) && i.specifier.startsWith('.'))
          .map((i) => ({ start: i.start, end: i.end, text: (i.target ? original(i.target) : join(dirname(path), i.specifier)).split(sep).join('/') }));
        const text = applyEdits(file.text, [...pointers, ...(path === changed ? edits : [])]);
        mkdirSync(dirname(at(path)), { recursive: true });
        writeFileSync(at(path), text);
      }
      if (!exportName) return at(graph.entry);
      const wrapper = join(dir, 'protocol.ts');
      const from = './' + relative(dir, at(graph.entry)).split(sep).join('/');
      writeFileSync(wrapper, `export { ${exportName} as default } from ${JSON.stringify(from)};\n`);
      return wrapper;
    },
    remove(name) {
      rmSync(join(root, name), { recursive: true, force: true });
    },
    dispose() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}
