/**
 * The generated schemas: current with the TypeScript types (regenerated here and compared),
 * valid under ajv strict mode, and every example frame in schemas/README.md and
 * schemas/messages.md valid against them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { protocols } from '../machines/index.js';
import { packageRoot } from '../src/runtime/package-root.js';
import { kitSchemaDir } from '../src/cli/protocol-source.js';
import { generateSchemas, typedProtocols } from '../src/runtime/schema-gen.js';
import { schemaId } from '../src/runtime/schema-id.js';
import { FrameValidator, readSchema, strictAjv } from '../src/runtime/validator.js';

const dir = kitSchemaDir();
const generated = generateSchemas(protocols, packageRoot());

describe('schemas/', () => {
  it('is what `npm run schemas` generates from the current types', () => {
    const onDisk = readdirSync(dir).filter((f) => f !== 'README.md').sort();
    expect(onDisk).toEqual([...generated.keys()].sort());
    for (const [name, text] of generated) expect(readFileSync(join(dir, name), 'utf8'), `${name} is stale: run npm run schemas`).toBe(text);
  });

  it('has a schema for every registered primitive with message types', () => {
    for (const p of typedProtocols(protocols)) expect(generated.has(`${p.name}.schema.json`), p.name).toBe(true);
    expect(generated.has('envelope.schema.json')).toBe(true);
  });

  it('compiles under ajv strict mode, every definition', () => {
    const ajv = strictAjv();
    const names = [...generated.keys()].filter((f) => f.endsWith('.schema.json'));
    for (const f of names) ajv.addSchema(JSON.parse(generated.get(f)!));
    for (const f of names) {
      const s = JSON.parse(generated.get(f)!);
      for (const def of Object.keys(s.definitions)) expect(ajv.getSchema(`${s.$id}#/definitions/${def}`), `${f} ${def}`).toBeTypeOf('function');
    }
    for (const p of typedProtocols(protocols)) {
      expect(() => new FrameValidator(dir, p.name)).not.toThrow();
      expect(JSON.parse(generated.get(`${p.name}.schema.json`)!).$id).toBe(schemaId(p.name));
    }
  });
});

/** Every line inside a ```json block. */
const examples = (file: string) =>
  [...readFileSync(join(dir, file), 'utf8').matchAll(/```json\n([\s\S]*?)```/g)].flatMap((m) => m[1].trim().split('\n'));

describe('examples in the wire documentation', () => {
  const validators = typedProtocols(protocols).map((p) => new FrameValidator(dir, p.name));
  const ajv = strictAjv();
  const envelope = readSchema(dir, 'envelope');
  ajv.addSchema(envelope);
  for (const p of typedProtocols(protocols)) ajv.addSchema(readSchema(dir, p.name));
  const clientBound = ajv.getSchema(`${envelope.$id}#/definitions/ClientBoundFrame`)!;
  const noteOfSome = (note: unknown) => typedProtocols(protocols).some((p) => ajv.getSchema(`${schemaId(p.name)}#/definitions/Note`)!(note));
  /** Valid as a frame a node accepts (for some primitive), or as a frame a node sends a client. */
  const valid = (line: string): boolean => {
    const frame = JSON.parse(line);
    if (['hello', 'peer', 'request', 'admin'].includes(frame.type) && validators.some((v) => v.check(line).ok)) return true;
    if (!clientBound(frame)) return false;
    if (frame.type === 'note') return noteOfSome(frame.note);
    if (frame.type === 'reply') return frame.notes.every(noteOfSome);
    return true;
  };

  for (const file of ['README.md', 'messages.md']) {
    it(`every example frame in ${file} is valid`, () => {
      const lines = examples(file);
      expect(lines.length).toBeGreaterThan(file === 'README.md' ? 10 : 20);
      for (const line of lines) expect(valid(line), line).toBe(true);
    });
  }

  it('the example check is not vacuous: altered examples are refused', () => {
    const altered = [
      '{"type":"peer","from":2,"to":1,"msg":{"type":"vote","term":3,"granted":"yes"}}',
      '{"type":"peer","from":2,"to":1,"msg":{"type":"vote","term":3,"granted":true,"extra":1}}',
      '{"type":"note","node":1,"note":{"type":"no_such_note"}}',
      '{"type":"status","id":8,"node":1,"primitive":"election","state":"leader","round":2,"leader":1}',
      '{"type":"hello","cluster":"prod-a","version":1.5,"node":2}',
    ];
    for (const line of altered) expect(valid(line), line).toBe(false);
  });
});
