/**
 * Validates inbound frames against the primitive's generated wire schema (ajv, strict mode, every
 * validator compiled once per process): one validation per frame, by the frame's `type`, covers
 * what it carries. A refused frame gets one precise reason instead of ajv's list of every union
 * member that failed.
 *
 * Compiling costs a node most of its startup CPU, so it is done before: `coordkit schemas` writes
 * the compiled code (ajv's standalone output) beside each wire schema, and a node loads it when it
 * was compiled from that very schema text (which its first line says, checked at start; the code
 * itself is loaded at the first frame, after the node listens). Otherwise (a schema edited by hand, an older folder) a
 * node compiles and keeps the code in its own data folder, named by a hash of the schema and
 * ajv's version, so a restart loads it. Ajv itself is loaded only to compile.
 */
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, readSync, renameSync, writeFileSync } from 'node:fs';
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

const loadCode = (code: string): Record<string, ValidateFunction> => {
  const module = { exports: {} as Record<string, ValidateFunction> };
  new Function('require', 'module', 'exports', code)(require, module, module.exports);
  return module.exports;
};

/** Ajv with `refs` compiled from `schema`, and the compiled functions by export name. */
function compile(schema: Schema, refs: Record<string, string>, source: boolean): { ajv: Ajv; out: Record<string, ValidateFunction> } {
  const ajv = strictAjv({ source });
  ajv.addSchema(schema);
  const out: Record<string, ValidateFunction> = {};
  for (const [name, ref] of Object.entries(refs)) out[name] = ajv.getSchema(ref) ?? fail(`schema ${schema.$id}: cannot resolve ${ref.slice(schema.$id.length)}`);
  return { ajv, out };
}

const standalone = (ajv: Ajv, refs: Record<string, string>): string =>
  (require('ajv/dist/standalone') as { default: (ajv: Ajv, refs: Record<string, string>) => string }).default(ajv, refs);

const sha = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 24);

/** The header line of a validators file: it names the schema text and validators it was compiled from. */
const header = (schema: Schema, text: string, refs: Record<string, string>) => `// compiled from ${schema.$id} (key ${sha(`${JSON.stringify(refs)}\0${text}`)}) by ajv's standalone code; generated, do not edit\n`;

/** Whether a validators file begins with `head` (the line naming what it was compiled from): reads only that much. */
function beginsWith(file: string, head: string): boolean {
  const want = Buffer.from(head);
  const got = Buffer.alloc(want.length);
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    return readSync(fd, got, 0, got.length, 0) === got.length && got.equals(want);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** A loaded validators file, if it was compiled from this schema text and holds every validator. */
function shipped(file: string, head: string, refs: Record<string, string>): Record<string, ValidateFunction> | null {
  try {
    const code = readFileSync(file, 'utf8');
    if (!code.startsWith(head)) return null;
    const loaded = loadCode(code);
    return Object.keys(refs).every((name) => typeof loaded[name] === 'function') ? loaded : null;
  } catch {
    return null;
  }
}

/**
 * The validators named in `refs` (export name → schema ref), as a function that loads them:
 * from the schema folder's `<name>.validators.cjs` when it was compiled from this very schema
 * (`coordkit schemas` writes it), else from the data folder's cache when it holds this schema's
 * for this ajv, else compiled (and cached there when the folder takes it). The schema folder's
 * file is only checked here: its code is loaded when the validators are first asked for (the
 * first frame), not before a node listens.
 */
function validators(schema: Schema, text: string, refs: Record<string, string>, beside: string, cacheDir: string | undefined): () => Record<string, ValidateFunction> {
  const head = header(schema, text, refs);
  const elsewhere = () => compiledOrCached(schema, refs, head, cacheDir);
  if (!beginsWith(beside, head)) {
    const v = elsewhere();
    return () => v;
  }
  // Called once: FrameValidator keeps what it returns.
  return () => shipped(beside, head, refs) ?? elsewhere();
}

/** The validators from the data folder's cache when it holds this schema's for this ajv, else compiled (and cached there when the folder takes it). */
function compiledOrCached(schema: Schema, refs: Record<string, string>, head: string, cacheDir: string | undefined): Record<string, ValidateFunction> {
  const ajvVersion = (require('ajv/package.json') as { version: string }).version;
  const file = cacheDir ? join(cacheDir, `validators-${sha(`${ajvVersion}\0${head}`)}.cjs`) : null;
  const cached = file ? shipped(file, head, refs) : null;
  if (cached) return cached;
  const { ajv, out } = compile(schema, refs, !!file);
  if (file) {
    try {
      mkdirSync(cacheDir!, { recursive: true });
      writeFileSync(file + '.tmp', head + standalone(ajv, refs));
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

/** The validators a node needs (export name → schema ref), and the message and request types in the order they are numbered. */
function frameRefs(wire: Schema, primitive: string): { refs: Record<string, string>; messages: string[]; clients: string[] } {
  const definition = (def: string) => (wire.definitions?.[def] ? `${wire.$id}#/definitions/${def}` : fail(`wire schema of ${primitive} lacks ${def}`));
  const refs: Record<string, string> = {};
  for (const [type, def] of Object.entries(INBOUND)) refs[`frame_${type}`] = definition(def);
  const messages = unionByType(wire, 'Message');
  const clients = unionByType(wire, 'Request');
  [...messages.values()].forEach((ref, i) => (refs[`message_${i}`] = ref));
  [...clients.values()].forEach((ref, i) => (refs[`request_${i}`] = ref));
  refs.hello_node = definition('NodeHello');
  refs.hello_client = definition('ClientHello');
  return { refs, messages: [...messages.keys()], clients: [...clients.keys()] };
}

/** The file beside a primitive's wire schema that holds its compiled validators. */
export const validatorsName = (primitive: string) => `${wireName(primitive)}.validators.cjs`;

/**
 * `<primitive>.wire.validators.cjs`'s name and text: the validators of the wire schema `text`,
 * compiled to code (ajv's standalone output), so that no node compiles the kit's schemas. Its
 * first line names the schema text it was compiled from; a node ignores a file whose line does
 * not match the schema beside it.
 */
export function validatorsFile(text: string, primitive: string): [string, string] {
  const wire = JSON.parse(text) as Schema;
  const { refs } = frameRefs(wire, primitive);
  return [validatorsName(primitive), header(wire, text, refs) + standalone(compile(wire, refs, true).ajv, refs)];
}

/** The validators a FrameValidator holds, by what they check. */
interface ValidatorsByType {
  frames: Map<string, ValidateFunction>;
  messages: Map<string, ValidateFunction>;
  clients: Map<string, ValidateFunction>;
  /** A node's hello and a client's, to say which rule of its kind a refused hello breaks. */
  hellos: [ValidateFunction, ValidateFunction];
}

/**
 * Checks inbound frames for one primitive against its wire schema (`<primitive>.wire.schema.json`),
 * where one validation settles a frame, carried message included. Build once per process.
 */
export class FrameValidator {
  private readonly types: { messages: string[]; clients: string[] };
  private readonly load: () => Record<string, ValidateFunction>;
  private loaded: ValidatorsByType | null = null;

  /** `cacheDir`: where compiled validators are kept between starts (a node's data folder). */
  constructor(schemaDir: string, primitive: string, cacheDir?: string) {
    const { text, schema: wire } = readSchemaText(schemaDir, wireName(primitive));
    if (wire.$id !== schemaId(wireName(primitive))) throw new Error(`schemas in ${schemaDir} do not carry the expected $id`);
    const { refs, messages, clients } = frameRefs(wire, primitive);
    this.types = { messages, clients };
    this.load = validators(wire, text, refs, join(schemaDir, validatorsName(primitive)), cacheDir);
  }

  /** The validators by frame, message and request type, loaded at the first frame. */
  private get by(): ValidatorsByType {
    if (this.loaded) return this.loaded;
    const v = this.load();
    const { messages, clients } = this.types;
    return (this.loaded = {
      frames: new Map(Object.keys(INBOUND).map((type) => [type, v[`frame_${type}`]])),
      messages: new Map(messages.map((type, i) => [type, v[`message_${i}`]])),
      clients: new Map(clients.map((type, i) => [type, v[`request_${i}`]])),
      hellos: [v.hello_node, v.hello_client],
    });
  }

  /** Message types of the primitive, as the schema lists them. */
  get messageTypes(): string[] {
    return [...this.types.messages];
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
    const v = typeof type === 'string' ? this.by.frames.get(type) : undefined;
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
      const m = (type === 'peer' ? this.by.messages : this.by.clients).get(inner.type);
      if (!m) return `unknown ${what} type ${JSON.stringify(inner.type ?? null)}`;
      if (!m(inner)) return `bad ${inner.type} ${what}: ${describeError(m, 'it')}`;
    }
    if (type === 'hello') {
      const node = frame.node !== undefined;
      if (node === (frame.client !== undefined)) return `bad hello frame: it names ${node ? 'both a node and a client' : 'neither a node nor a client'} (exactly one)`;
      v = this.by.hellos[node ? 0 : 1];
      v(frame);
    }
    return `bad ${type} frame: ${describeError(v, 'frame')}`;
  }
}
