/**
 * `coordkit schemas [<primitive> | --protocol FILE | --config FILE] [--out DIR]`: the JSON
 * Schemas of a protocol's messages, client requests and notes, generated from its own
 * TypeScript types (the file and names its `types` declare) by typescript-json-schema, with the
 * wire envelope beside them and `<name>.wire.schema.json`, the two in one: what its nodes validate
 * every frame with; and `<name>.md`, its behaviour written down from its machine. They go to DIR, by
 * default to the protocol's schema folder. Without a name or file: every protocol of the config,
 * or the kit's own primitives (`npm run schemas`: regenerated with the message catalogue, stale
 * files removed).
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { packageRoot } from '../package-root.js';
import { behaviourDoc } from '../runtime/behaviour-doc.js';
import { generateSchemas, protocolSchemas, wireFiles, type SchemaInput } from '../runtime/schema-gen.js';
import { parse } from './parse.js';
import { builtIns, kitSchemaDir, PROTOCOL_OPTIONS, resolveProtocol, resolveProtocols, type ProtocolSource } from './protocol-source.js';
import { UsageError } from './usage-error.js';

const USAGE = 'coordkit schemas [<primitive> | --protocol FILE | --config FILE] [--out DIR]';

export async function schemasCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      out: { type: 'string', help: "DIR  where the schemas go (default: the protocol's schema folder)" },
      ...PROTOCOL_OPTIONS,
    },
    USAGE,
  );
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}' (usage: ${USAGE})`);
  const one = positionals.length === 1 || values.protocol !== undefined;
  const sources = one ? [await resolveProtocol({ name: positionals[0], protocol: values.protocol, config: values.config })] : await resolveProtocols({ config: values.config });
  const written = !one && sources.every((s) => s.builtIn) ? await writeKitSchemas(values.out ?? kitSchemaDir()) : writeProtocolSchemas(sources, values.out);
  process.stdout.write(`wrote ${written.join(', ')}\n`);
  return 0;
}

/** Every schema of the kit's own primitives, from their sources; schema files of primitives no longer registered are removed. */
async function writeKitSchemas(dir: string): Promise<string[]> {
  const files = generateSchemas((await builtIns()).map((s) => s.protocol), packageRoot());
  mkdirSync(dir, { recursive: true });
  for (const old of readdirSync(dir)) if (/\.schema\.json$|\.validators\.cjs$/.test(old) && !files.has(old)) rmSync(join(dir, old));
  for (const [name, text] of files) writeFileSync(join(dir, name), text);
  return [...files.keys()].map((name) => join(dir, name));
}

/** Each protocol's schema into `out` or its own folder, with a copy of the kit's envelope. */
function writeProtocolSchemas(sources: readonly ProtocolSource[], out: string | undefined): string[] {
  const byDir = new Map<string, (SchemaInput & { builtIn: boolean })[]>();
  for (const source of sources) {
    const dir = resolve(out ?? source.schemaDir);
    byDir.set(dir, [...(byDir.get(dir) ?? []), schemaInput(source)]);
  }
  const written: string[] = [];
  for (const [dir, inputs] of byDir) {
    let files: Map<string, string>;
    const generator = inputs.every((i) => i.builtIn) ? 'npm run schemas' : 'coordkit schemas';
    try {
      files = protocolSchemas(inputs, generator);
      const envelopeText = readFileSync(join(kitSchemaDir(), 'envelope.schema.json'), 'utf8');
      for (const input of inputs) {
        for (const file of wireFiles(envelopeText, files.get(`${input.protocol.name}.schema.json`)!, input.protocol.name, generator)) files.set(...file);
        files.set(`${input.protocol.name}.md`, behaviourDoc(input.protocol, dirname(input.typesFile), `${dirname(input.label)}/`, generator));
      }
    } catch (err) {
      throw new UsageError(`cannot generate the schemas of ${inputs.map((i) => i.protocol.name).join(', ')}: ${(err as Error).message.split('\n')[0]}`);
    }
    mkdirSync(dir, { recursive: true });
    for (const [name, text] of files) writeFileSync(join(dir, name), text);
    const envelope = join(dir, 'envelope.schema.json');
    if (resolve(kitSchemaDir()) !== dir) copyFileSync(join(kitSchemaDir(), 'envelope.schema.json'), envelope);
    written.push(...[...files.keys()].map((name) => join(dir, name)), envelope);
  }
  return written;
}

/** Where a protocol's types file is: relative to its module, or the `.d.ts` beside a compiled one. */
function schemaInput(source: ProtocolSource): SchemaInput & { builtIn: boolean } {
  const { protocol } = source;
  if (!protocol.types) throw new UsageError(`${protocol.name} declares no 'types' (the file and names of its message, client and note types), so no schema can be generated`);
  const file = resolve(source.typesRoot, protocol.types.file);
  const declarations = file.replace(/\.(m|c)?ts$/, '.d.$1ts');
  const typesFile = existsSync(file) ? file : existsSync(declarations) ? declarations : undefined;
  if (!typesFile) throw new UsageError(`${protocol.name}: its types file ${protocol.types.file} is not at ${file}${declarations !== file ? ` (nor ${declarations})` : ''}; 'types.file' is relative to the protocol's module`);
  return { protocol: protocol as SchemaInput['protocol'], typesFile, label: protocol.types.file, builtIn: source.builtIn };
}
