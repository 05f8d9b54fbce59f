/**
 * Turns a generated schema's `anyOf` into `oneOf` wherever its members cannot both match one
 * value: members with different constant `type`s (a discriminated union), different JSON types
 * (`Accepted | null`), or closed objects one of which requires a property the other lacks
 * (a node's hello and a client's). A validator, in any language, then knows a valid frame
 * matched exactly one member, and a reader sees the union is exclusive.
 */

type Schema = Record<string, any>;

/** What decides membership, for one member that is not itself a union. */
interface Leaf {
  types: string[];
  tag?: string;
  closed: boolean;
  required: string[];
  properties: string[];
}

const JSON_TYPES = ['object', 'array', 'string', 'number', 'integer', 'boolean', 'null'];

function leaves(node: Schema, definitions: Record<string, Schema>, seen = new Set<string>()): Leaf[] | null {
  if (typeof node.$ref === 'string') {
    const name = node.$ref.replace('#/definitions/', '');
    if (seen.has(name) || !definitions[name]) return null;
    return leaves(definitions[name], definitions, new Set([...seen, name]));
  }
  const union = node.anyOf ?? node.oneOf;
  if (Array.isArray(union)) {
    const all = union.map((m: Schema) => leaves(m, definitions, seen));
    return all.some((l) => l === null) ? null : all.flat() as Leaf[];
  }
  const types = node.type === undefined ? (node.properties ? ['object'] : JSON_TYPES) : [node.type].flat();
  return [{
    types,
    tag: node.properties?.type?.const,
    closed: node.additionalProperties === false,
    required: node.required ?? [],
    properties: Object.keys(node.properties ?? {}),
  }];
}

/** True when no value can match both. */
function disjoint(a: Leaf, b: Leaf): boolean {
  const overlap = a.types.some((t) => b.types.includes(t) || (t === 'number' && b.types.includes('integer')) || (t === 'integer' && b.types.includes('number')));
  if (!overlap) return true;
  if (a.types.join() !== 'object' || b.types.join() !== 'object') return false;
  if (a.tag !== undefined && b.tag !== undefined && a.tag !== b.tag && a.required.includes('type') && b.required.includes('type')) return true;
  const lacks = (x: Leaf, y: Leaf) => x.closed && y.required.some((p) => !x.properties.includes(p));
  return lacks(a, b) || lacks(b, a);
}

function exclusive(members: Schema[], definitions: Record<string, Schema>): boolean {
  const each = members.map((m) => leaves(m, definitions));
  if (each.some((l) => l === null)) return false;
  for (let i = 0; i < each.length; i++) {
    for (let j = i + 1; j < each.length; j++) {
      for (const a of each[i]!) for (const b of each[j]!) if (!disjoint(a, b)) return false;
    }
  }
  return true;
}

/** The schema with every exclusive `anyOf` written as `oneOf` (in place, and returned). */
export function exactUnions<T extends { definitions: Record<string, unknown> }>(schema: T): T {
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== 'object') return;
    const o = node as Schema;
    if (Array.isArray(o.anyOf) && exclusive(o.anyOf, schema.definitions as Record<string, Schema>)) {
      o.oneOf = o.anyOf;
      delete o.anyOf;
    }
    Object.values(o).forEach(visit);
  };
  visit(schema.definitions);
  return schema;
}
