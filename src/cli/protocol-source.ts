/**
 * Where protocols come from, for every command: the kit's own primitives by name, a module file
 * (`--protocol FILE`, JavaScript or TypeScript), or the modules a `coordkit.config.js` names
 * (in the working directory, or `--config FILE`). Each is resolved, once, into the Protocol and
 * the places that belong to it: its module (for explore threads and node processes), its
 * generated schemas and its scenarios. A loaded object is checked before anything runs it, and
 * every problem is one line naming the field.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { kitLoaders } from '../../machines/kit.js';
import { importModule, isTypeScript } from '../import-module.js';
import { packageRoot } from '../package-root.js';
import type { Protocol } from '../protocol.js';
import { UsageError } from './usage-error.js';

export interface ProtocolSource {
  protocol: Protocol;
  /** Absolute path of the module that exports it. */
  module: string;
  /** The module's URL, for explore threads to import it. */
  moduleUrl: string;
  /** One of the kit's own primitives. */
  builtIn: boolean;
  /** How a command line names it: `mutex`, `--protocol FILE`, `--config FILE NAME`. */
  ref: string;
  /** Folder `types.file` is relative to. */
  typesRoot: string;
  /** Folder of its generated schemas. */
  schemaDir: string;
  /** Folder of its timed scenarios and cluster scripts, if it has one. */
  scenarioDir?: string;
}

/** The configuration file looked for in the working directory. */
export const CONFIG_FILE = 'coordkit.config.js';

const KIT_MODULE = fileURLToPath(new URL('../../machines/index.js', import.meta.url));

/** The kit's own schema folder (its primitives' schemas and the wire envelope). */
export const kitSchemaDir = () => join(packageRoot(), 'schemas');

/** Where one of the kit's own primitives comes from. */
export function builtInSource(protocol: Protocol): ProtocolSource {
  const root = packageRoot();
  return {
    protocol,
    module: KIT_MODULE,
    moduleUrl: pathToFileURL(KIT_MODULE).href,
    builtIn: true,
    ref: protocol.name,
    typesRoot: root,
    schemaDir: protocol.schemaDir ?? kitSchemaDir(),
    scenarioDir: protocol.scenarioDir ?? join(root, 'scenarios', protocol.name),
  };
}

/** The kit's own primitives, every one loaded. */
export async function builtIns(): Promise<ProtocolSource[]> {
  const { protocols } = await import('../../machines/index.js');
  return protocols.map(builtInSource);
}

/** What selects protocols on a command line. */
export interface SourceArgs {
  /** A positional primitive name (or `--primitive`). */
  name?: string;
  /** `--protocol FILE`, once or more. */
  protocol?: string | string[];
  /** `--config FILE`. */
  config?: string;
}

const files = (p: SourceArgs['protocol']): string[] => (p === undefined ? [] : Array.isArray(p) ? p : [p]);

function refuseMixed(args: SourceArgs): void {
  const given = files(args.protocol);
  if (given.length && args.name !== undefined) throw new UsageError(`give a primitive name or --protocol FILE, not both ('${args.name}' and --protocol ${given[0]})`);
  if (given.length && args.config !== undefined) throw new UsageError(`give --protocol FILE or --config FILE, not both`);
}

/**
 * The protocols a command that covers many runs on (`list`, `all`, `report`, `schemas`): the
 * `--protocol` files, else the config's (`--config`, else `coordkit.config.js` here), else the
 * kit's own primitives.
 */
export async function resolveProtocols(args: SourceArgs): Promise<ProtocolSource[]> {
  refuseMixed(args);
  const given = files(args.protocol);
  const found = given.length ? await Promise.all(given.map((f) => loadProtocolFile(f))) : ((await loadConfig(args.config)) ?? (await builtIns()));
  for (const [i, s] of found.entries()) {
    const first = found.findIndex((o) => o.protocol.name === s.protocol.name);
    if (first !== i) throw new UsageError(`two protocols are named '${s.protocol.name}': ${found[first].module} and ${s.module}`);
  }
  return found;
}

/** The options of a command that takes one protocol: by name, from a module, or from a config. */
export const PROTOCOL_OPTIONS = {
  protocol: { type: 'string', help: 'FILE  a protocol module of your own (JavaScript or TypeScript)' },
  config: { type: 'string', help: 'FILE  a coordkit.config.js naming your protocols (the protocol then by name)' },
} as const;

/**
 * The one protocol a command runs (`check`, `simulate`, `node`, `cluster`, `schemas NAME`): the
 * `--protocol` file, or a name among the config's protocols and the kit's own; without a name,
 * the config's protocol when it names exactly one.
 */
export async function resolveProtocol(args: SourceArgs): Promise<ProtocolSource> {
  refuseMixed(args);
  const given = files(args.protocol);
  if (given.length > 1) throw new UsageError(`give --protocol once (got ${given.length})`);
  if (given.length) return loadProtocolFile(given[0]);
  const configured = (await loadConfig(args.config)) ?? [];
  // Only the named primitive of the kit is loaded: a node must not build the others' machines.
  const kit = Object.keys(kitLoaders).filter((name) => !configured.some((c) => c.protocol.name === name));
  const names = [...configured.map((c) => c.protocol.name), ...kit].join(', ');
  if (args.name === undefined) {
    if (configured.length === 1) return configured[0];
    throw new UsageError(`name a primitive (choose from: ${names}) or give --protocol FILE`);
  }
  const found = configured.find((c) => c.protocol.name === args.name);
  if (found) return found;
  if (!kit.includes(args.name)) throw new UsageError(`unknown primitive '${args.name}' (choose from: ${names})`);
  return builtInSource(await kitLoaders[args.name]());
}

const oneLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0];

const compileHint = (file: string) =>
  isTypeScript(file) ? ` (TypeScript is loaded through tsx; if it cannot load this module, compile it with \`npx tsc\` and give the .js file)` : '';

async function importFile(file: string, what: string): Promise<Record<string, unknown>> {
  const path = resolve(file);
  if (!existsSync(path)) throw new UsageError(`cannot load ${what}: no such file`);
  try {
    return await importModule(pathToFileURL(path).href);
  } catch (err) {
    throw new UsageError(`cannot load ${what}: ${oneLine(err)}${compileHint(path)}`);
  }
}

/** A user's protocol: a module whose default (or `protocol`) export is a Protocol. */
export async function loadProtocolFile(file: string, what = `--protocol ${file}`, ref = (_name: string) => `--protocol ${file}`): Promise<ProtocolSource> {
  const mod = await importFile(file, what);
  const protocol = mod.default ?? mod.protocol;
  const problem = protocolProblem(protocol);
  if (problem) throw new UsageError(`${what}: ${problem}`);
  const p = protocol as Protocol;
  const module = resolve(file);
  const beside = (folder: string) => join(dirname(module), folder);
  return {
    protocol: p,
    module,
    moduleUrl: pathToFileURL(module).href,
    builtIn: false,
    ref: ref(p.name),
    typesRoot: dirname(module),
    schemaDir: p.schemaDir ?? beside('schemas'),
    scenarioDir: p.scenarioDir ?? (existsSync(beside('scenarios')) ? beside('scenarios') : undefined),
  };
}

/**
 * The protocols a config names: `export default { protocols: ['./path/to/protocol.js'] }`,
 * paths relative to the config file. Undefined when no config is given and none is here.
 */
async function loadConfig(file: string | undefined): Promise<ProtocolSource[] | undefined> {
  if (file === undefined && !existsSync(CONFIG_FILE)) return undefined;
  const path = file ?? CONFIG_FILE;
  const what = file === undefined ? CONFIG_FILE : `--config ${file}`;
  const mod = await importFile(path, what);
  const config = mod.default as { protocols?: unknown } | undefined;
  if (!config || typeof config !== 'object' || !Array.isArray(config.protocols) || !config.protocols.length || !config.protocols.every((p) => typeof p === 'string' && p)) {
    throw new UsageError(`${what} must default-export { protocols: ['./path/to/protocol.js', ...] } (paths relative to it)`);
  }
  const ref = (name: string) => (file === undefined ? name : `--config ${file} ${name}`);
  return Promise.all(
    (config.protocols as string[]).map((p, i) => {
      const module = resolve(dirname(path), p);
      return loadProtocolFile(relative('.', module) || module, `${what}: protocols[${i}] ${p}`, ref);
    }),
  );
}

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const KINDS = ['always', 'sometimes', 'eventually'];
const HOOKS = ['clients', 'round', 'checkParams', 'ghostSummary', 'sampleEvents'];

function duplicate(names: string[]): string | undefined {
  return names.find((n, i) => names.indexOf(n) !== i);
}

/** What is wrong with a loaded object as a Protocol, in one line; undefined when nothing is. */
export function protocolProblem(p: unknown): string | undefined {
  if (!isObj(p)) return 'exports no Protocol (as default or as `protocol`)';
  if (typeof p.name !== 'string' || !/^[A-Za-z0-9][\w.-]*$/.test(p.name)) return `'name' must be a name usable in file names (letters, digits, '.', '_', '-'), got ${JSON.stringify(p.name)}`;
  if (typeof p.description !== 'string') return `protocol ${p.name} is missing 'description' (a sentence)`;
  if (!Array.isArray(p.variants) || !p.variants.length) return `protocol ${p.name} is missing 'variants' (a non-empty list)`;
  for (const [i, v] of p.variants.entries()) {
    const at = `variants[${i}]`;
    if (!isObj(v) || typeof v.name !== 'string' || !v.name) return `${at} is missing 'name'`;
    if (typeof v.description !== 'string') return `${at} (${v.name}) is missing 'description'`;
    if (!isObj(v.machine) || typeof v.machine.transition !== 'function') return `${at} (${v.name}): 'machine' must be an XState machine`;
    if (typeof v.durable !== 'function') return `${at} (${v.name}) is missing 'durable' (a function picking what survives a crash)`;
    if (v.reveal !== undefined && !isObj(v.reveal)) return `${at} (${v.name}): 'reveal' must be a configuration object`;
    const early = v.beforeFlush;
    const names = (x: unknown) => x === undefined || (Array.isArray(x) && x.every((t) => typeof t === 'string' && t));
    if (early !== undefined && !(isObj(early) && names(early.sends) && names(early.notes))) return `${at} (${v.name}): 'beforeFlush' must be { sends?: [message types], notes?: [note types] }`;
  }
  const variants = p.variants.map((v: { name: string }) => v.name);
  if (duplicate(variants)) return `two variants are named '${duplicate(variants)}'`;
  if (p.defaultVariant === undefined) return `protocol ${p.name} is missing 'defaultVariant' (the name of its verified variant: one of ${variants.join(', ')})`;
  if (!variants.includes(p.defaultVariant)) return `'defaultVariant' ${JSON.stringify(p.defaultVariant)} names no variant (choose from: ${variants.join(', ')})`;
  if (!Array.isArray(p.properties) || !p.properties.length) return `protocol ${p.name} is missing 'properties' (a non-empty list)`;
  for (const [i, x] of p.properties.entries()) {
    const at = `properties[${i}]`;
    if (!isObj(x) || typeof x.name !== 'string' || !x.name) return `${at} is missing 'name'`;
    if (!KINDS.includes(x.kind)) return `${at} (${x.name}): 'kind' must be one of ${KINDS.join(', ')}, got ${JSON.stringify(x.kind)}`;
    if (typeof x.holds !== 'function') return `${at} (${x.name}) is missing 'holds' (a function of the world)`;
  }
  const properties = p.properties.map((x: { name: string }) => x.name);
  if (duplicate(properties)) return `two properties are named '${duplicate(properties)}'`;
  for (const v of p.variants) if (v.breaks !== undefined && !properties.includes(v.breaks)) return `variant ${v.name} breaks '${v.breaks}', which is not one of its properties`;
  if (!isObj(p.defaults)) return `protocol ${p.name} is missing 'defaults' (a configuration object; {} takes the kit's)`;
  for (const hook of HOOKS) if (p[hook] !== undefined && typeof p[hook] !== 'function') return `'${hook}' must be a function`;
  if (p.types !== undefined && !(isObj(p.types) && ['file', 'message', 'client', 'note'].every((k) => typeof p.types[k] === 'string' && p.types[k]))) {
    return `'types' must name { file, message, client, note }`;
  }
  for (const dir of ['schemaDir', 'scenarioDir']) if (p[dir] !== undefined && !(typeof p[dir] === 'string' && isAbsolute(p[dir]))) return `'${dir}' must be an absolute folder path`;
  return undefined;
}

/** Replay commands name the protocol as a command line must (`--protocol FILE` for a module). */
export function withRef<T extends { replay: string }>(source: ProtocolSource, violations: readonly T[]): void {
  if (source.ref === source.protocol.name) return;
  for (const v of violations) v.replay = v.replay.replace(`coordkit check ${source.protocol.name} `, `coordkit check ${source.ref} `);
}

/** The command that writes a protocol's schemas into `dir`. */
export function schemasCommand(source: ProtocolSource, dir = source.schemaDir): string {
  return `coordkit schemas ${source.ref}${resolve(dir) === resolve(source.schemaDir) ? '' : ` --out ${dir}`}`;
}

/** A one-line usage error unless `dir` holds the schemas a node of this protocol validates frames with. */
export function requireSchemas(source: ProtocolSource, dir: string): void {
  const { protocol } = source;
  if (!protocol.types) throw new UsageError(`${protocol.name} declares no 'types' (the file and names of its message, client and note types), so it has no schemas to validate frames with: add them, then run \`${schemasCommand(source, dir)}\``);
  for (const name of ['envelope', protocol.name, `${protocol.name}.wire`]) {
    const file = join(dir, `${name}.schema.json`);
    if (!existsSync(file)) throw new UsageError(`no schema ${file}: generate it with \`${schemasCommand(source, dir)}\``);
  }
}
