/**
 * Generates the wire's JSON Schemas from the TypeScript types, with typescript-json-schema:
 * `envelope.schema.json` from src/runtime/wire.ts, and one `<primitive>.schema.json` per
 * registered primitive from the file and type names its Protocol declares in `types`, and
 * `<primitive>.wire.schema.json`, the two composed into one schema of every frame, and
 * `<primitive>.md`, its behaviour written down from its machine (behaviour-doc.ts). Exclusive
 * unions are `oneOf`. Each
 * primitive schema has the primitive's own type names as definitions plus three stable aliases,
 * `Message`, `Client` and `Note`, which validators and other implementations refer to. Also
 * `messages.md`, the catalogue of every message with an example.
 */
import { dirname, resolve } from 'node:path';
import * as TJS from 'typescript-json-schema';
import type { Protocol } from '../protocol.js';
import { messageCatalog } from './message-catalog.js';
import { behaviourDoc } from './behaviour-doc.js';
import { exactUnions } from './exact-unions.js';
import { schemaId } from './schema-id.js';
import { validatorsFile } from './validator.js';
import { composeWireSchema, wireName } from './wire-schema.js';

export const ENVELOPE_FILE = 'src/runtime/wire.ts';
export const ENVELOPE_SYMBOLS = [
  'InboundFrame',
  'ClientBoundFrame',
  'Hello',
  'NodeHello',
  'ClientHello',
  'PeerFrame',
  'RequestFrame',
  'StatusRequest',
  'AdminFrame',
  'ReplyFrame',
  'StatusFrame',
  'NoteFrame',
  'ErrorFrame',
];

/** The generated message catalogue, written beside the schemas. */
export const CATALOG_FILE = 'messages.md';

const SETTINGS: TJS.PartialArgs = { required: true, strictNullChecks: true, noExtraProps: true, ref: true, aliasRef: false, titles: false };

type Typed = Protocol & { types: NonNullable<Protocol['types']> };

/** Primitives with declared message types, in registration order. */
export function typedProtocols(protocols: readonly Protocol[]): Typed[] {
  return protocols.filter((p): p is Typed => p.types !== undefined);
}

/** A protocol with declared message types, where its types file is, and how its schema names the file. */
export interface SchemaInput {
  protocol: Typed;
  /** Absolute path of the types file. */
  typesFile: string;
  /** The file as the schema's description names it. */
  label: string;
}

/** One schema: the symbols' definitions, sorted, after stable aliases to them. */
function schemaText(program: TJS.Program, file: string, symbols: string[], name: string, aliases: Record<string, string>, description: string, settings: TJS.PartialArgs): string {
  const generator = TJS.buildGenerator(program, settings, [file]);
  if (!generator) throw new Error(`typescript-json-schema could not compile ${file}`);
  for (const symbol of symbols) {
    if (!generator.getUserSymbols().includes(symbol)) throw new Error(`type '${symbol}' not found in ${file}`);
  }
  const generated = generator.getSchemaForSymbols(symbols) as { definitions: Record<string, unknown> };
  const definitions: Record<string, unknown> = {};
  for (const [alias, target] of Object.entries(aliases)) definitions[alias] = { $ref: `#/definitions/${target}` };
  for (const key of Object.keys(generated.definitions).sort()) definitions[key] = generated.definitions[key];
  const schema = exactUnions({ $schema: 'http://json-schema.org/draft-07/schema#', $id: schemaId(name), description, definitions });
  return JSON.stringify(schema, null, 2) + '\n';
}

const compile = (files: string[], root: string) =>
  TJS.getProgramFromFiles(files, { strictNullChecks: true, target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', skipLibCheck: true, types: [] }, root);

const described = (label: string, generator: string) => `Generated from ${label} by \`${generator}\`; do not edit.`;

/** A protocol's schema: its message, client and note types, aliased `Message`, `Client`, `Note`. */
function protocolSchema(program: TJS.Program, input: SchemaInput, generator: string, settings: TJS.PartialArgs): string {
  const { protocol: p, typesFile, label } = input;
  const { message, client, note } = p.types;
  return schemaText(program, typesFile, [message, client, note], p.name, { Message: message, Client: client, Note: note }, described(label, generator), settings);
}

/** `<name>.wire.schema.json`'s file name and text, from the envelope's and the primitive's schema texts. */
export function wireSchemaFile(envelope: string, own: string, name: string, generator: string): [string, string] {
  const schema = composeWireSchema(JSON.parse(envelope), JSON.parse(own), name, generator);
  return [`${wireName(name)}.schema.json`, JSON.stringify(schema, null, 2) + '\n'];
}

/** The wire schema's file and its compiled validators' (`<name>.wire.validators.cjs`), names and texts. */
export function wireFiles(envelope: string, own: string, name: string, generator: string): [string, string][] {
  const wire = wireSchemaFile(envelope, own, name, generator);
  return [wire, validatorsFile(wire[1], name)];
}

/**
 * A user's types file may import code this program cannot type-check without the user's own
 * compiler options (Node's types, their packages): errors elsewhere do not stop the schemas of
 * the named types, which must still be found.
 */
const USER_SETTINGS: TJS.PartialArgs = { ...SETTINGS, ignoreErrors: true };

/**
 * `<name>.schema.json` of each protocol, from its own types (`generator` names the command in
 * each schema's description).
 */
export function protocolSchemas(inputs: readonly SchemaInput[], generator: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!inputs.length) return out;
  const program = compile(inputs.map((i) => i.typesFile), dirname(inputs[0].typesFile));
  for (const input of inputs) out.set(`${input.protocol.name}.schema.json`, protocolSchema(program, input, generator, USER_SETTINGS));
  return out;
}

/**
 * Every schema file's name and text for the kit's own primitives (stable: the same types give
 * the same bytes), the envelope and the message catalogue included. `root` is the package
 * folder the type files are relative to.
 */
export function generateSchemas(protocols: readonly Protocol[], root: string): Map<string, string> {
  const typed = typedProtocols(protocols);
  const inputs = typed.map((p): SchemaInput => ({ protocol: p, typesFile: resolve(root, p.types.file), label: p.types.file }));
  const program = compile([resolve(root, ENVELOPE_FILE), ...inputs.map((i) => i.typesFile)], root);
  const generator = 'npm run schemas';
  const out = new Map<string, string>();
  out.set('envelope.schema.json', schemaText(program, resolve(root, ENVELOPE_FILE), ENVELOPE_SYMBOLS, 'envelope', {}, described(ENVELOPE_FILE, generator), SETTINGS));
  for (const input of inputs) {
    const own = protocolSchema(program, input, generator, SETTINGS);
    out.set(`${input.protocol.name}.schema.json`, own);
    for (const file of wireFiles(out.get('envelope.schema.json')!, own, input.protocol.name, generator)) out.set(...file);
    out.set(`${input.protocol.name}.md`, behaviourDoc(input.protocol, dirname(input.typesFile), `${dirname(input.label)}/`, generator));
  }
  const parsed = new Map(typed.map((p) => [p.name, JSON.parse(out.get(`${p.name}.schema.json`)!)]));
  out.set(CATALOG_FILE, messageCatalog(typed, parsed));
  return out;
}
