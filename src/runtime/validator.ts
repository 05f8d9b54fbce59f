/**
 * Validates inbound frames against the generated schemas (ajv, strict mode, every validator
 * compiled once at startup). A frame is checked in two stages: the envelope (`hello`, `peer`,
 * `request`, `admin`), then what it carries against the primitive's schema (`Message` for a peer
 * frame, `Client` for a request). Dispatching on `type` first gives one precise reason per
 * refused frame instead of ajv's list of every union branch that failed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { schemaId } from './schema-id.js';
import type { InboundFrame, PeerFrame, RequestFrame } from './wire.js';

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

const ENVELOPE_TYPES: Record<string, string> = { hello: 'Hello', peer: 'PeerFrame', request: 'RequestFrame', admin: 'AdminFrame' };

/** Reads a schema file, failing with one line that names it. */
export function readSchema(dir: string, name: string): { $id: string; definitions: Record<string, any> } {
  const file = join(dir, `${name}.schema.json`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`no schema ${file} (generate it with \`coordkit schemas\`)`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`schema ${file} is not JSON: ${(err as Error).message}`);
  }
}

/** A fresh ajv in strict mode, as every validator in the kit uses. */
export function strictAjv(): Ajv {
  return new Ajv({ strict: true, allErrors: false });
}

const describeError = (v: ValidateFunction, whole: string): string => {
  const e = v.errors?.[0];
  if (!e) return 'invalid';
  const where = e.instancePath || whole;
  const extra = e.keyword === 'additionalProperties' ? ` '${(e.params as { additionalProperty: string }).additionalProperty}'` : '';
  return `${where} ${e.message}${extra}`;
};

/** Validators for one union definition (`Message`, `Client`), one per member, keyed by its `type` const. */
function unionByType(ajv: Ajv, schema: { $id: string; definitions: Record<string, any> }, def: string): Map<string, ValidateFunction> {
  const out = new Map<string, ValidateFunction>();
  const resolveRef = (node: any, path: string): [any, string] => {
    while (node && typeof node.$ref === 'string') {
      const name = node.$ref.replace('#/definitions/', '');
      path = `#/definitions/${name}`;
      node = schema.definitions[name];
    }
    return [node, path];
  };
  const [union, unionPath] = resolveRef(schema.definitions[def], `#/definitions/${def}`);
  const members: [any, string][] = union?.anyOf ? union.anyOf.map((m: any, i: number) => resolveRef(m, `${unionPath}/anyOf/${i}`)) : [[union, unionPath]];
  for (const [member, path] of members) {
    const type = member?.properties?.type?.const;
    if (typeof type !== 'string') throw new Error(`schema ${schema.$id}: a member of ${def} has no constant 'type'`);
    const v = ajv.getSchema(`${schema.$id}${path}`);
    if (!v) throw new Error(`schema ${schema.$id}: cannot resolve ${path}`);
    out.set(type, v);
  }
  return out;
}

/** Checks inbound frames for one primitive. Build once per process. */
export class FrameValidator {
  private readonly envelope = new Map<string, ValidateFunction>();
  private readonly messages: Map<string, ValidateFunction>;
  private readonly clients: Map<string, ValidateFunction>;

  constructor(schemaDir: string, primitive: string) {
    const ajv = strictAjv();
    const envelope = readSchema(schemaDir, 'envelope');
    const own = readSchema(schemaDir, primitive);
    if (envelope.$id !== schemaId('envelope') || own.$id !== schemaId(primitive)) throw new Error(`schemas in ${schemaDir} do not carry the expected $id`);
    ajv.addSchema(envelope);
    ajv.addSchema(own);
    for (const [type, def] of Object.entries(ENVELOPE_TYPES)) {
      const v = ajv.getSchema(`${envelope.$id}#/definitions/${def}`);
      if (!v) throw new Error(`envelope schema lacks ${def}`);
      this.envelope.set(type, v);
    }
    this.messages = unionByType(ajv, own, 'Message');
    this.clients = unionByType(ajv, own, 'Client');
    const status = ajv.getSchema(`${envelope.$id}#/definitions/StatusRequest`);
    if (!status) throw new Error('envelope schema lacks StatusRequest');
    this.clients.set('client.status', status);
  }

  /** Message types of the primitive, as the schema lists them. */
  get messageTypes(): string[] {
    return [...this.messages.keys()];
  }

  /** Parses and validates one line. */
  check(line: string): Checked<InboundFrame> {
    let frame: unknown;
    try {
      frame = JSON.parse(line);
    } catch {
      return { ok: false, reason: 'not JSON' };
    }
    if (frame === null || typeof frame !== 'object' || Array.isArray(frame)) return { ok: false, reason: 'frame is not a JSON object' };
    const type = (frame as { type?: unknown }).type;
    const v = typeof type === 'string' ? this.envelope.get(type) : undefined;
    if (!v) return { ok: false, reason: `unknown frame type ${JSON.stringify(type ?? null)}` };
    if (!v(frame)) return { ok: false, reason: `bad ${type} frame: ${describeError(v, 'frame')}` };
    const f = frame as InboundFrame;
    const inner = type === 'peer' ? (f as PeerFrame).msg : type === 'request' ? (f as RequestFrame).request : null;
    if (inner) {
      const what = type === 'peer' ? 'message' : 'client request';
      const innerType = inner.type;
      const m = (type === 'peer' ? this.messages : this.clients).get(innerType);
      if (!m) return { ok: false, reason: `unknown ${what} type ${JSON.stringify(innerType)}` };
      if (!m(inner)) return { ok: false, reason: `bad ${innerType} ${what}: ${describeError(m, 'it')}` };
    }
    return { ok: true, value: f };
  }
}
