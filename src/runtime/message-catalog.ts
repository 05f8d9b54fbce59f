/**
 * `schemas/messages.md`: every primitive's peer messages, client requests and notes, each with
 * its description, fields and one example frame, generated from the schemas (examples come from
 * the primitive's `sampleEvents` where it has one, otherwise are built from the schema). It is
 * regenerated with the schemas, so it cannot drift from them.
 */
import type { Protocol } from '../protocol.js';

type Schema = { definitions: Record<string, any> };

/** A small valid instance of a schema node (consts, enums, first union member, required fields). */
export function exampleOf(node: any, schema: Schema, depth = 0): unknown {
  if (depth > 8 || node === undefined) return null;
  if (node.$ref) return exampleOf(schema.definitions[node.$ref.replace('#/definitions/', '')], schema, depth + 1);
  if ('const' in node) return node.const;
  if (node.enum) return node.enum[0];
  const union = node.oneOf ?? node.anyOf;
  if (union) return exampleOf(union.find((m: any) => m.type !== 'null') ?? union[0], schema, depth + 1);
  const type = Array.isArray(node.type) ? node.type.find((t: string) => t !== 'null') : node.type;
  switch (type) {
    case 'integer':
    case 'number':
      return Math.max(1, node.minimum ?? 1);
    case 'string':
      return 'v1';
    case 'boolean':
      return true;
    case 'null':
      return null;
    case 'array':
      return node.items ? [exampleOf(node.items, schema, depth + 1)] : [];
    case 'object': {
      const out: Record<string, unknown> = {};
      const required = new Set<string>(node.required ?? []);
      for (const key of Object.keys(node.properties ?? {})) if (required.has(key)) out[key] = exampleOf(node.properties[key], schema, depth + 1);
      return out;
    }
    default:
      return null;
  }
}

function members(schema: Schema, def: string): { node: any; name?: string }[] {
  let node = schema.definitions[def];
  while (node?.$ref) node = schema.definitions[node.$ref.replace('#/definitions/', '')];
  const list = node?.oneOf ?? node?.anyOf ?? [node];
  return list.map((m: any) => {
    if (!m.$ref) return { node: m };
    const name = m.$ref.replace('#/definitions/', '');
    return { node: schema.definitions[name], name };
  });
}

/** 281474976710655 reads better as 2^48 - 1. */
const bound = (v: number) => (v > 2 ** 20 && Number.isInteger(Math.log2(v + 1)) ? `2^${Math.log2(v + 1)} - 1` : String(v));
/** ` 0..2^48 - 1` for a bounded integer, else nothing. */
const range = (node: any) => (node.minimum !== undefined && node.maximum !== undefined ? ` ${node.minimum}..${bound(node.maximum)}` : '');

const typeText = (node: any, schema: Schema): string => {
  if (!node) return 'any';
  if (node.$ref) return node.$ref.replace('#/definitions/', '');
  if ('const' in node) return JSON.stringify(node.const);
  if (node.oneOf ?? node.anyOf) return (node.oneOf ?? node.anyOf).map((m: any) => typeText(m, schema)).join(' \\| ');
  if (node.enum) return node.enum.map((e: unknown) => JSON.stringify(e)).join(' \\| ');
  if (Array.isArray(node.type)) return node.type.map((t: string) => (t === 'integer' ? `integer${range(node)}` : t)).join(' \\| ');
  if (node.type === 'array') {
    const item = typeText(node.items, schema);
    return item.includes(' ') ? `(${item})[]` : `${item}[]`;
  }
  if (node.type === 'integer') return `integer${range(node)}`;
  return node.type ?? 'any';
};

/** The catalogue text for the primitives with schemas (`schemas` maps a primitive's name to its parsed schema). */
export function messageCatalog(protocols: readonly Protocol[], schemas: Map<string, Schema>): string {
  const out = [
    '# Messages of every primitive',
    '',
    'Generated from the schemas by `npm run schemas`; do not edit. The wire itself (framing, hello,',
    'envelope, ordering and durability duties) is specified in [README.md](README.md).',
  ];
  for (const p of protocols) {
    const schema = schemas.get(p.name);
    if (!schema) continue;
    const samples = new Map<string, Record<string, unknown>>();
    for (const e of p.sampleEvents?.({ nodes: 3, params: {} }) ?? []) {
      const { from: _from, ...msg } = e as Record<string, unknown>;
      if (!samples.has(String(msg.type))) samples.set(String(msg.type), msg);
    }
    out.push('', `## ${p.name}`, '', p.description, '', `Schema: [${p.name}.schema.json](${p.name}.schema.json).`);
    const sections: [string, string, (x: unknown) => object][] = [
      ['Message', 'Peer messages (in a `peer` frame)', (msg) => ({ type: 'peer', from: 1, to: 2, msg })],
      ['Client', 'Client requests (in a `request` frame; `client.status` is answered by every primitive)', (request) => ({ type: 'request', id: 1, request })],
      ['Note', 'Notes (pushed to clients in `note` frames, returned in `reply` frames)', (note) => ({ type: 'note', node: 1, note })],
    ];
    for (const [def, title, frame] of sections) {
      out.push('', `### ${title}`);
      for (const { node } of members(schema, def)) {
        const type = node?.properties?.type?.const as string;
        const fields = Object.keys(node?.properties ?? {}).filter((k) => k !== 'type');
        const required = new Set(node?.required ?? []);
        const sample = samples.get(type);
        const example = sample && def !== 'Note' ? sample : exampleOf(node, schema);
        out.push('', `#### \`${type}\``, '');
        if (node?.description) out.push(node.description.replace(/\n/g, ' '), '');
        if (fields.length) {
          out.push('| field | type | |', '| --- | --- | --- |');
          for (const f of fields) {
            const prop = node.properties[f];
            out.push(`| \`${f}\` | ${typeText(prop, schema)} | ${required.has(f) ? '' : 'optional. '}${(prop.description ?? '').replace(/\n/g, ' ')} |`);
          }
          out.push('');
        }
        out.push('```json', JSON.stringify(frame(example)), '```');
      }
    }
  }
  return out.join('\n') + '\n';
}
