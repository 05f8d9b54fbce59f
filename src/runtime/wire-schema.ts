/**
 * `<primitive>.wire.schema.json`: the envelope with the primitive's own types in every slot that
 * carries one (`msg` is its `Message`, `request` its `Client` or `client.status`, `note` and each
 * of a reply's `notes` and an error's `note` its `Note`), in one self-contained schema whose root is every frame of
 * either direction. One validation settles a frame, in any language, without re-dispatching by
 * hand. Composed from the two generated schemas, so a node may compose it without the generator.
 */
import { schemaId } from './schema-id.js';

type Schema = Record<string, any>;
type SchemaFile = { $id: string; definitions: Record<string, Schema> };

/** The frames of either direction, in the order the envelope lists them. */
export const WIRE_FRAMES = ['Hello', 'PeerFrame', 'RequestFrame', 'AdminFrame', 'ReplyFrame', 'StatusFrame', 'NoteFrame', 'ErrorFrame'];

/** The name of a primitive's wire schema (without `.schema.json`). */
export const wireName = (primitive: string) => `${primitive}.wire`;

/** Replaces a property's schema, keeping its description. */
function retype(def: Schema | undefined, path: string[], schema: Schema, what: string): void {
  let node = def;
  for (const key of path.slice(0, -1)) node = node?.[key];
  const last = path[path.length - 1];
  if (!node || !node[last]) throw new Error(`envelope schema lacks ${what}`);
  const description = node[last].description;
  node[last] = description === undefined ? schema : { description, ...schema };
}

export function composeWireSchema(envelope: SchemaFile, own: SchemaFile, primitive: string, generator: string): Schema {
  const definitions: Record<string, Schema> = structuredClone(envelope.definitions);
  for (const [name, def] of Object.entries(own.definitions)) {
    if (name in definitions) throw new Error(`${primitive}'s schema defines '${name}', which the envelope defines too`);
    definitions[name] = structuredClone(def);
  }
  for (const alias of ['Message', 'Client', 'Note']) if (!definitions[alias]) throw new Error(`${primitive}'s schema lacks the alias ${alias}`);
  definitions.Request = {
    description: `A client request of ${primitive}, or the status request every node answers.`,
    oneOf: [{ $ref: '#/definitions/Client' }, { $ref: '#/definitions/StatusRequest' }],
  };
  retype(definitions.PeerFrame, ['properties', 'msg'], { $ref: '#/definitions/Message' }, 'PeerFrame.msg');
  retype(definitions.RequestFrame, ['properties', 'request'], { $ref: '#/definitions/Request' }, 'RequestFrame.request');
  retype(definitions.NoteFrame, ['properties', 'note'], { $ref: '#/definitions/Note' }, 'NoteFrame.note');
  retype(definitions.ReplyFrame, ['properties', 'notes', 'items'], { $ref: '#/definitions/Note' }, 'ReplyFrame.notes');
  retype(definitions.ErrorFrame, ['properties', 'note'], { $ref: '#/definitions/Note' }, 'ErrorFrame.note');
  const sorted: Record<string, Schema> = {};
  for (const key of Object.keys(definitions).sort()) sorted[key] = definitions[key];
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: schemaId(wireName(primitive)),
    description: `Every frame of ${primitive}'s wire, either direction, with ${primitive}'s messages, requests and notes in place. Composed from envelope.schema.json and ${primitive}.schema.json by \`${generator}\`; do not edit.`,
    oneOf: WIRE_FRAMES.map((f) => ({ $ref: `#/definitions/${f}` })),
    definitions: sorted,
  };
}
