/**
 * Generates the wire's JSON Schemas from the TypeScript types, with typescript-json-schema:
 * `envelope.schema.json` from src/runtime/wire.ts, and one `<primitive>.schema.json` per
 * registered primitive from the file and type names its Protocol declares in `types`. Each
 * primitive schema has the primitive's own type names as definitions plus three stable aliases,
 * `Message`, `Client` and `Note`, which validators and other implementations refer to. Also
 * `messages.md`, the catalogue of every message with an example.
 */
import { resolve } from 'node:path';
import * as TJS from 'typescript-json-schema';
import type { Protocol } from '../protocol.js';
import { messageCatalog } from './message-catalog.js';

export const ENVELOPE_FILE = 'src/runtime/wire.ts';
export const ENVELOPE_SYMBOLS = [
  'InboundFrame',
  'ClientBoundFrame',
  'Hello',
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

export const schemaId = (name: string) => `urn:coordkit:schema:${name}`;

const SETTINGS: TJS.PartialArgs = { required: true, strictNullChecks: true, noExtraProps: true, ref: true, aliasRef: false, titles: false };

/** Primitives with declared message types, in registration order. */
export function typedProtocols(protocols: readonly Protocol[]): (Protocol & { types: NonNullable<Protocol['types']> })[] {
  return protocols.filter((p): p is Protocol & { types: NonNullable<Protocol['types']> } => p.types !== undefined);
}

/**
 * Every schema file's name and text (stable: the same types give the same bytes). `root` is the
 * package folder the type files are relative to.
 */
export function generateSchemas(protocols: readonly Protocol[], root: string): Map<string, string> {
  const typed = typedProtocols(protocols);
  const files = [ENVELOPE_FILE, ...typed.map((p) => p.types.file)].map((f) => resolve(root, f));
  const program = TJS.getProgramFromFiles(files, { strictNullChecks: true, module: 'ESNext', moduleResolution: 'Bundler', skipLibCheck: true, types: [] }, root);
  const out = new Map<string, string>();
  const build = (file: string, symbols: string[], name: string, aliases: Record<string, string>) => {
    const generator = TJS.buildGenerator(program, SETTINGS, [resolve(root, file)]);
    if (!generator) throw new Error(`typescript-json-schema could not compile ${file}`);
    for (const symbol of symbols) {
      if (!generator.getUserSymbols().includes(symbol)) throw new Error(`type '${symbol}' not found in ${file}`);
    }
    const generated = generator.getSchemaForSymbols(symbols) as { definitions: Record<string, unknown> };
    const definitions: Record<string, unknown> = {};
    for (const [alias, target] of Object.entries(aliases)) definitions[alias] = { $ref: `#/definitions/${target}` };
    for (const key of Object.keys(generated.definitions).sort()) definitions[key] = generated.definitions[key];
    const schema = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      $id: schemaId(name),
      description: `Generated from ${file} by \`npm run schemas\`; do not edit.`,
      definitions,
    };
    out.set(`${name}.schema.json`, JSON.stringify(schema, null, 2) + '\n');
  };
  build(ENVELOPE_FILE, ENVELOPE_SYMBOLS, 'envelope', {});
  for (const p of typed) {
    const { file, message, client, note } = p.types;
    build(file, [message, client, note], p.name, { Message: message, Client: client, Note: note });
  }
  const parsed = new Map(typed.map((p) => [p.name, JSON.parse(out.get(`${p.name}.schema.json`)!)]));
  out.set(CATALOG_FILE, messageCatalog(typed, parsed));
  return out;
}
