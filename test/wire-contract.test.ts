/**
 * The closed wire contract: unions are exclusive (`oneOf`), each primitive's wire schema settles
 * a whole frame in one validation, a hello names exactly one of node and client, and every frame
 * of real runs (what clients sent and received, every peer message the nodes' traces record) is
 * valid under ajv and under Python's jsonschema, while altered frames are refused by both.
 * Needs `npx tsc -p .` first.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { protocols } from '../machines/index.js';
import { kitSchemaDir } from '../src/cli/protocol-source.js';
import { LocalCluster } from '../src/runtime/local-cluster.js';
import { exampleOf } from '../src/runtime/message-catalog.js';
import { typedProtocols } from '../src/runtime/schema-gen.js';
import { readTrace, type NodeRecord } from '../src/runtime/trace-log.js';
import { FrameValidator, readSchema, strictAjv } from '../src/runtime/validator.js';
import { wireName } from '../src/runtime/wire-schema.js';

const dir = kitSchemaDir();
const typed = typedProtocols(protocols);
const root = mkdtempSync(join(tmpdir(), 'coordkit-contract-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every node of a schema document with its path. */
function* walk(node: unknown, path = ''): Generator<[string, Record<string, any>]> {
  if (Array.isArray(node)) for (const [i, n] of node.entries()) yield* walk(n, `${path}/${i}`);
  else if (node !== null && typeof node === 'object') {
    yield [path, node as Record<string, any>];
    for (const [k, v] of Object.entries(node)) yield* walk(v, `${path}/${k}`);
  }
}

const wire = (name: string) => readSchema(dir, wireName(name));
const ajvWire = (name: string) => {
  const v = strictAjv().compile(wire(name));
  return (frame: unknown) => v(frame) as boolean;
};

/** Frames every primitive's wire schema must refuse, and the message of another primitive it must refuse. */
function badFrames(name: string): unknown[] {
  const schema = wire(name);
  const message = exampleOf({ $ref: '#/definitions/Message' }, schema) as Record<string, unknown>;
  const note = exampleOf({ $ref: '#/definitions/Note' }, schema) as Record<string, unknown>;
  const other = typed.find((p) => p.name !== name);
  const foreign = other ? (exampleOf({ $ref: '#/definitions/Message' }, wire(other.name)) as Record<string, unknown>) : null;
  const counter = Object.keys(message).find((k) => k !== 'type' && typeof message[k] === 'number');
  return [
    { type: 'hello', cluster: 'c', version: 1, node: 2, client: 'both' },
    { type: 'hello', cluster: 'c', version: 1 },
    { type: 'hello', cluster: 'c', version: 1, client: 'x', primitive: name },
    { type: 'peer', from: 2, to: 1, msg: { ...message, extra: 1 } },
    { type: 'peer', from: 2, to: 1, msg: { type: 'no_such_message' } },
    ...(foreign && foreign.type !== message.type ? [{ type: 'peer', from: 2, to: 1, msg: foreign }] : []),
    ...(counter ? [1.5, -1, 2 ** 53].map((bad) => ({ type: 'peer', from: 2, to: 1, msg: { ...message, [counter]: bad } })) : []),
    { type: 'request', id: 2.5, request: { type: 'client.status' } },
    { type: 'request', id: 1, request: { type: 'client.no_such_request' } },
    { type: 'note', node: 1, note: { ...note, extra: true } },
    { type: 'reply', id: 1, node: 1, state: 's', notes: [{ type: 'no_such_note' }] },
  ];
}

describe('exclusive unions', () => {
  const files = [...typed.flatMap((p) => [p.name, wireName(p.name)]), 'envelope'];

  it.each(files)('%s: no anyOf; every oneOf of objects discriminates on a constant type or on required fields', (name) => {
    let unions = 0;
    for (const [path, node] of walk(readSchema(dir, name))) {
      expect(node.anyOf, `${path} is anyOf`).toBeUndefined();
      if (node.oneOf) unions++;
    }
    expect(unions).toBeGreaterThan(name === 'envelope' ? 2 : 1);
  });

  it('a hello names exactly one of node and client, with the reason said in one line', () => {
    const v = new FrameValidator(dir, typed[0].name);
    expect(v.check('{"type":"hello","cluster":"c","version":1,"node":2}').ok).toBe(true);
    expect(v.check('{"type":"hello","cluster":"c","version":1,"client":"me"}').ok).toBe(true);
    expect(v.check('{"type":"hello","cluster":"c","version":1,"node":2,"client":"me"}')).toEqual({ ok: false, reason: 'bad hello frame: it names both a node and a client (exactly one)' });
    expect(v.check('{"type":"hello","cluster":"c","version":1}')).toEqual({ ok: false, reason: 'bad hello frame: it names neither a node nor a client (exactly one)' });
    expect(v.check('{"type":"hello","cluster":"c","version":1.5,"client":"me"}')).toEqual({ ok: false, reason: 'bad hello frame: /version must be integer' });
  });

  it.each(typed.map((p) => p.name))('%s.wire.schema.json refuses every altered frame under ajv, and the node validator agrees', (name) => {
    const valid = ajvWire(name);
    const node = new FrameValidator(dir, name);
    for (const frame of badFrames(name)) {
      expect(valid(frame), JSON.stringify(frame)).toBe(false);
      const type = (frame as { type: string }).type;
      if (['hello', 'peer', 'request'].includes(type)) expect(node.check(JSON.stringify(frame)).ok, JSON.stringify(frame)).toBe(false);
    }
  });
});

/** The members of a union, unions in it flattened. */
function members(schema: { definitions: Record<string, any> }, node: Record<string, any>): Record<string, any>[] {
  while (node.$ref) node = schema.definitions[node.$ref.replace('#/definitions/', '')];
  return node.oneOf ? node.oneOf.flatMap((m: Record<string, any>) => members(schema, m)) : [node];
}

/** A frame of a real run, with the primitive whose wire schema must accept it. */
type Item = { primitive: string; frame: unknown; valid: boolean };

/** Runs a cluster, sends every client request the schema names (an example of each) and status to each node, and returns every frame. */
async function realRun(name: string, nodes: number): Promise<Item[]> {
  const cluster = await LocalCluster.start({ primitive: name, nodes, dir: join(root, name), cluster: 'contract' });
  const frames: unknown[] = [];
  try {
    await cluster.waitLinked(20_000);
    const schema = wire(name);
    const requests = members(schema, { $ref: '#/definitions/Request' }).map((m) => exampleOf(m, schema) as { type: string });
    for (const id of cluster.ids) {
      const client = cluster.client(id);
      frames.push({ type: 'hello', cluster: 'contract', version: 1, client: 'launcher' }, client.hello);
      for (const request of requests) {
        frames.push({ type: 'request', id: 0, request });
        frames.push(await client.call({ type: 'request', request }, 5000).catch(() => null));
      }
    }
    await new Promise((r) => setTimeout(r, 1500));
    for (const id of cluster.ids) frames.push(...cluster.client(id).notes, ...cluster.client(id).errors);
  } finally {
    await cluster.stop();
  }
  for (const id of cluster.ids) {
    for (const r of readTrace(join(cluster.nodeDir(id), 'trace.ndjson'))) {
      const record = r as NodeRecord;
      if (record.kind === 'peer') {
        const { from, ...msg } = record.event!;
        frames.push({ type: 'peer', from, to: id, msg });
      }
      for (const send of record.sends ?? []) frames.push({ type: 'peer', from: id, to: send.to, msg: send.msg });
    }
  }
  return frames.filter((f) => f !== null).map((frame) => ({ primitive: name, frame, valid: true }));
}

describe('every frame of real runs', () => {
  const items: Item[] = [];
  const runs = typed.map((p, i) => [p.name, 2 + (i % 2)] as const);

  beforeAll(async () => {
    for (const [name, nodes] of runs) items.push(...(await realRun(name, nodes)));
    for (const p of typed) items.push(...badFrames(p.name).map((frame) => ({ primitive: p.name, frame, valid: false })));
  }, 240_000);

  it('covers peer frames, requests, replies, notes and hellos of every primitive', () => {
    for (const p of typed) {
      const types = new Set(items.filter((i) => i.valid && i.primitive === p.name).map((i) => (i.frame as { type: string }).type));
      for (const t of ['hello', 'peer', 'request', 'status']) expect(types.has(t), `${p.name} ${t}`).toBe(true);
      expect(types.has('reply') || types.has('error'), p.name).toBe(true);
    }
    expect(items.filter((i) => i.valid).length).toBeGreaterThan(50);
  });

  it('are valid under ajv, and the altered ones refused', () => {
    const validators = new Map(typed.map((p) => [p.name, ajvWire(p.name)]));
    for (const item of items) expect(validators.get(item.primitive)!(item.frame), `${item.primitive} ${JSON.stringify(item.frame)}`).toBe(item.valid);
  });

  const python = spawnSync('python3', ['-c', 'import jsonschema'], { encoding: 'utf8', timeout: 20_000 });
  if (python.status !== 0) console.warn('skipping the Python jsonschema check: python3 cannot import jsonschema (install it with `python3 -m pip install jsonschema`)');
  it.runIf(python.status === 0)('are valid under Python jsonschema, every schema a valid draft-07 schema, and the altered ones refused', () => {
    const file = join(root, 'frames.ndjson');
    writeFileSync(file, items.map((i) => JSON.stringify(i)).join('\n') + '\n');
    const r = spawnSync('python3', [join(__dirname, 'validate-frames.py'), dir, file], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.status, r.stdout).toBe(0);
    const [, schemas, accepted, refused] = /(\d+) schemas valid, (\d+) frames accepted, (\d+) bad frames refused, 0 failures/.exec(r.stdout)!.map(Number);
    expect(schemas).toBe(2 * typed.length + 1);
    expect(accepted).toBe(items.filter((i) => i.valid).length);
    expect(refused).toBe(items.filter((i) => !i.valid).length);
  });
});
