/**
 * Validates inbound frames against the primitive's generated wire schema (ajv, strict mode, every
 * validator compiled once at startup): one validation per frame, by the frame's `type`, covers
 * what it carries. A refused frame gets one precise reason instead of ajv's list of every union
 * member that failed.
 *
 * Compiling costs a node most of its startup CPU, so a node keeps the compiled code (ajv's
 * standalone output) in its own data folder, named by a hash of the schema and ajv's version: a
 * restart loads it instead of compiling, and a changed schema compiles afresh. Ajv itself is
 * loaded only to compile.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Ajv, ValidateFunction } from 'ajv';
import { schemaId } from './schema-id.js';
import { wireName } from './wire-schema.js';
import type { InboundFrame } from './wire.js';

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

const INBOUND: Record<string, string> = { hello: 'Hello', peer: 'PeerFrame', request: 'RequestFrame', admin: 'AdminFrame' };

type Schema = { $id: string; definitions: Record<string, any> };

function readSchemaText(dir: string, name: string): { text: string; schema: Schema } {
  const file = join(dir, `${name}.schema.json`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`no schema ${file} (generate it with \`coordkit schemas\`)`);
  }
  try {
    return { text, schema: JSON.parse(text) };
  } catch (err) {
    throw new Error(`schema ${file} is not JSON: ${(err as Error).message}`);
  }
}

/** Reads a schema file, failing with one line that names it. */
export function readSchema(dir: string, name: string): Schema {
  return readSchemaText(dir, name).schema;
}

const require = createRequire(import.meta.url);

/** A fresh ajv in strict mode, as every validator in the kit uses. */
export function strictAjv(options: { source?: boolean } = {}): Ajv {
  const { Ajv: AjvClass } = require('ajv') as typeof import('ajv');
  return new AjvClass({ strict: true, allErrors: false, ...(options.source ? { code: { source: true } } : {}) });
}

/**
 * The validators named in `refs` (export name → schema ref), from the folder's cache when it
 * holds this schema's, else compiled (and cached there when the folder takes it).
 */
function validators(schema: Schema, text: string, refs: Record<string, string>, cacheDir: string | undefined): Record<string, ValidateFunction> {
  const ajvVersion = (require('ajv/package.json') as { version: string }).version;
  const key = createHash('sha256').update(`${ajvVersion}\0${JSON.stringify(refs)}\0${text}`).digest('hex').slice(0, 24);
  const file = cacheDir ? join(cacheDir, `validators-${key}.cjs`) : null;
  const load = (code: string) => {
    const module = { exports: {} as Record<string, ValidateFunction> };
    new Function('require', 'module', 'exports', code)(require, module, module.exports);
    return module.exports;
  };
  if (file) {
    try {
      const cached = load(readFileSync(file, 'utf8'));
      if (Object.keys(refs).every((name) => typeof cached[name] === 'function')) return cached;
    } catch {
      // absent or unreadable: compiled below
    }
  }
  const ajv = strictAjv({ source: !!file });
  ajv.addSchema(schema);
  const out: Record<string, ValidateFunction> = {};
  for (const [name, ref] of Object.entries(refs)) out[name] = ajv.getSchema(ref) ?? fail(`schema ${schema.$id}: cannot resolve ${ref.slice(schema.$id.length)}`);
  if (file) {
    try {
      const standaloneCode = (require('ajv/dist/standalone') as { default: (ajv: Ajv, refs: Record<string, string>) => string }).default;
      mkdirSync(cacheDir!, { recursive: true });
      writeFileSync(file + '.tmp', standaloneCode(ajv, refs));
      renameSync(file + '.tmp', file);
    } catch {
      // A cache is not state: a folder that takes no writes costs only the next start's compile.
    }
  }
  return out;
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

/** Refs of the members of a union definition (`Message`, `Request`), keyed by each member's constant `type`. */
function unionByType(schema: Schema, def: string): Map<string, string> {
  const out = new Map<string, string>();
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
    out.set(type, `${schema.$id}${path}`);
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

  /** `cacheDir`: where compiled validators are kept between starts (a node's data folder). */
  constructor(schemaDir: string, primitive: string, cacheDir?: string) {
    const { text, schema: wire } = readSchemaText(schemaDir, wireName(primitive));
    if (wire.$id !== schemaId(wireName(primitive))) throw new Error(`schemas in ${schemaDir} do not carry the expected $id`);
    const definition = (def: string) => (wire.definitions?.[def] ? `${wire.$id}#/definitions/${def}` : fail(`wire schema of ${primitive} lacks ${def}`));
    const refs: Record<string, string> = {};
    for (const [type, def] of Object.entries(INBOUND)) refs[`frame_${type}`] = definition(def);
    const messages = unionByType(wire, 'Message');
    const clients = unionByType(wire, 'Request');
    [...messages.values()].forEach((ref, i) => (refs[`message_${i}`] = ref));
    [...clients.values()].forEach((ref, i) => (refs[`request_${i}`] = ref));
    refs.hello_node = definition('NodeHello');
    refs.hello_client = definition('ClientHello');
    const v = validators(wire, text, refs, cacheDir);
    for (const type of Object.keys(INBOUND)) this.frames.set(type, v[`frame_${type}`]);
    this.messages = new Map([...messages.keys()].map((type, i) => [type, v[`message_${i}`]]));
    this.clients = new Map([...clients.keys()].map((type, i) => [type, v[`request_${i}`]]));
    this.hellos = [v.hello_node, v.hello_client];
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
