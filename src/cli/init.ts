/**
 * `coordkit init DIR`: scaffolds a protocol project in a new (or empty) folder from
 * templates/init/: a machine, its messages, properties and a buggy variant, a timed scenario,
 * the vitest suite, a strict tsconfig, a package.json depending on this coordkit, a
 * coordkit.config.js and a CI script. Its tests pass as generated.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { packageRoot } from '../package-root.js';
import { parse } from './parse.js';
import { UsageError } from './usage-error.js';

const USAGE = 'coordkit init DIR';

/** Template files named `_x` are written as `.x` (npm leaves dotfiles such as .gitignore out of a package). */
const target = (name: string) => (name.startsWith('_') ? `.${name.slice(1)}` : name);

function templateFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? templateFiles(join(dir, f)).map((g) => join(f, g)) : [f]));
}

/** `{{name}}` is the protocol and package name; `{{coordkit}}` and dependency names take this kit's versions. */
function placeholders(name: string): Record<string, string> {
  const kit = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string; devDependencies: Record<string, string> };
  return { name, coordkit: kit.version, ...kit.devDependencies };
}

export async function initCommand(args: string[]): Promise<number> {
  const { positionals } = parse(args, {}, USAGE);
  if (positionals.length !== 1) throw new UsageError(`give exactly one folder (usage: ${USAGE})`);
  const dir = resolve(positionals[0]);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`${positionals[0]} is a file: give a new or empty folder`);
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new UsageError(`${positionals[0]} is not empty: give a new or empty folder`);
  const name = basename(dir).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'protocol';
  const values = placeholders(name);
  const templates = join(packageRoot(), 'templates', 'init');
  const written: string[] = [];
  for (const file of templateFiles(templates)) {
    const text = readFileSync(join(templates, file), 'utf8').replace(/\{\{([^}]+)\}\}/g, (whole, key: string) => values[key] ?? whole);
    const out = join(dir, ...file.split(/[\\/]/).map(target));
    mkdirSync(join(out, '..'), { recursive: true });
    writeFileSync(out, text);
    if (file.endsWith('.sh')) chmodSync(out, 0o755);
    written.push(relative(dir, out));
  }
  const cd = relative(process.cwd(), dir) || '.';
  process.stdout.write(`created protocol '${name}' in ${cd}: ${written.sort().join(', ')}\nnext: cd ${cd} && npm install && npm test\n`);
  return 0;
}
