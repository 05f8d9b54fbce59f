/**
 * Validates inbound frames against the primitive's generated wire schema (ajv, strict mode, every
 * validator compiled once at startup): one validation per frame, by the frame's `type`, covers
 * what it carries. A refused frame gets one precise reason instead of ajv's list of every union
 * member that failed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { schemaId } from './schema-id.js';
import { wireName } from './wire-schema.js';
import type { InboundFrame } from './wire.js';

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

const INBOUND: Record<string, string> = { hello: 'Hello', peer: 'PeerFrame', request: 'RequestFrame', admin: 'AdminFrame' };

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

const fail = (message: string): never => {
  throw new Error(message);
};

const describeError = (v: ValidateFunction, whole: string): string => {
  const e = v.errors?.[0];
  if (!e) return 'invalid';
  const where = e.instancePath || whole;
  const extra = e.keyword === 'additionalProperties' ? ` '${(e.params as { additionalProperty: string }).additionalProperty}'` : '';
  return `${where} ${e.message}${extra}`;
};

/** Validators for the members of a union definition (`Message`, `Request`), keyed by each member's constant `type`. */
function unionByType(ajv: Ajv, schema: { $id: string; definitions: Record<string, any> }, def: string): Map<string, ValidateFunction> {
  const out = new Map<string, ValidateFunction>();
  const visit = (node: any, path: string): void => {
    while (node && typeof node.$ref === 'string') {
      const name = node.$ref.replace('#/definitions/', '');
      path = `#/definitions/${name}`;
      node = schema.definitions[name];
    }
    const union = node?.oneOf ?? node?.anyOf;
    if (Array.isArray(union)) return union.forEach((m: any, i: number) => visit(m, `${path}/${node.oneOf ? 'oneOf' : 'anyOf'}/${i}`));
    const type = node?.properties?.type?.const;
    if (typeof type !== 'string') throw new Error(`schema ${schema.$id}: a member of ${def} has no constant 'type'`);
    const v = ajv.getSchema(`${schema.$id}${path}`);
    if (!v) throw new Error(`schema ${schema.$id}: cannot resolve ${path}`);
    out.set(type, v);
  };
  visit(schema.definitions[def], `#/definitions/${def}`);
  return out;
}

/**
 * Checks inbound frames for one primitive against its wire schema (`<primitive>.wire.schema.json`),
 * where one validation settles a frame, carried message included. Build once per process.
 */
export class FrameValidator {
  private readonly frames = new Map<string, ValidateFunction>();
  private readonly messages: Map<string, ValidateFunction>;
  private readonly clients: Map<string, ValidateFunction>;
  /** A node's hello and a client's, to say which rule of its kind a refused hello breaks. */
  private readonly hellos: [ValidateFunction, ValidateFunction];

  constructor(schemaDir: string, primitive: string) {
    const ajv = strictAjv();
    const wire = readSchema(schemaDir, wireName(primitive));
    if (wire.$id !== schemaId(wireName(primitive))) throw new Error(`schemas in ${schemaDir} do not carry the expected $id`);
    ajv.addSchema(wire);
    for (const [type, def] of Object.entries(INBOUND)) {
      const v = ajv.getSchema(`${wire.$id}#/definitions/${def}`);
      if (!v) throw new Error(`wire schema of ${primitive} lacks ${def}`);
      this.frames.set(type, v);
    }
    this.messages = unionByType(ajv, wire, 'Message');
    this.clients = unionByType(ajv, wire, 'Request');
    const hello = (def: string) => ajv.getSchema(`${wire.$id}#/definitions/${def}`) ?? fail(`wire schema of ${primitive} lacks ${def}`);
    this.hellos = [hello('NodeHello'), hello('ClientHello')];
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
    const v = typeof type === 'string' ? this.frames.get(type) : undefined;
    if (!v) return { ok: false, reason: `unknown frame type ${JSON.stringify(type ?? null)}` };
    if (v(frame)) return { ok: true, value: frame as InboundFrame };
    return { ok: false, reason: this.explain(type as string, frame as Record<string, any>, v) };
  }

  /**
   * One precise reason for a refused frame: what the carried message breaks, when it breaks
   * something, rather than ajv's list of every union member that failed.
   */
  private explain(type: string, frame: Record<string, any>, v: ValidateFunction): string {
    const inner = type === 'peer' ? frame.msg : type === 'request' ? frame.request : undefined;
    if (inner !== null && typeof inner === 'object' && !Array.isArray(inner)) {
      const what = type === 'peer' ? 'message' : 'client request';
      const m = (type === 'peer' ? this.messages : this.clients).get(inner.type);
      if (!m) return `unknown ${what} type ${JSON.stringify(inner.type ?? null)}`;
      if (!m(inner)) return `bad ${inner.type} ${what}: ${describeError(m, 'it')}`;
    }
    if (type === 'hello') {
      const node = frame.node !== undefined;
      if (node === (frame.client !== undefined)) return `bad hello frame: it names ${node ? 'both a node and a client' : 'neither a node nor a client'} (exactly one)`;
      v = this.hellos[node ? 0 : 1];
      v(frame);
    }
    return `bad ${type} frame: ${describeError(v, 'frame')}`;
  }
}
