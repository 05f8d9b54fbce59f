/**
 * The compiled validators beside the kit's wire schemas (`<primitive>.wire.validators.cjs`,
 * written by `npm run schemas`; test/schemas.test.ts holds them current): a node uses them only
 * when they were compiled from the schema text beside them, and otherwise compiles and keeps the
 * code in its data folder.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../src/package-root.js';
import { FrameValidator, validatorsName } from '../src/runtime/validator.js';
import { wireName } from '../src/runtime/wire-schema.js';

const root = mkdtempSync(join(tmpdir(), 'coordkit-validators-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const VOTE = JSON.stringify({ type: 'peer', from: 2, to: 1, msg: { type: 'vote', term: 1, granted: true } });

/** A copy of the kit's schemas, edited by `edit`, and a fresh data folder. */
function folders(name: string, edit: (schemas: string) => void): { schemas: string; data: string } {
  const schemas = join(root, name, 'schemas');
  cpSync(join(packageRoot(), 'schemas'), schemas, { recursive: true });
  edit(schemas);
  return { schemas, data: join(root, name, 'data') };
}

const compiledInto = (data: string) => {
  try {
    return readdirSync(data).filter((f) => f.startsWith('validators-'));
  } catch {
    return [];
  }
};

describe('compiled validators beside the schemas', () => {
  it('are used as they are when they match the schema: nothing is compiled', () => {
    const { schemas, data } = folders('intact', () => {});
    const v = new FrameValidator(schemas, 'election', data);
    expect(compiledInto(data)).toEqual([]);
    expect(v.check(VOTE).ok).toBe(true);
    expect(v.check(VOTE.replace('"term":1', '"term":-1'))).toMatchObject({ ok: false });
  });

  it('are ignored when the schema beside them changed: the node compiles the schema it has', () => {
    const { schemas, data } = folders('changed', (dir) => {
      // The schema now refuses term 1; the shipped code, compiled before, would accept it.
      const file = join(dir, `${wireName('election')}.schema.json`);
      const schema = JSON.parse(readFileSync(file, 'utf8'));
      const text = JSON.stringify(schema).replace(/"minimum":0/g, '"minimum":2');
      expect(text).not.toBe(JSON.stringify(schema));
      writeFileSync(file, text);
    });
    const v = new FrameValidator(schemas, 'election', data);
    expect(compiledInto(data)).toHaveLength(1);
    expect(v.check(VOTE)).toMatchObject({ ok: false });
    expect(new FrameValidator(schemas, 'election', data).check(VOTE)).toMatchObject({ ok: false });
  });

  it('are loaded at the first frame, not when the node starts: a file whose first line matches but whose code does not load is compiled then', () => {
    const { schemas, data } = folders('lazy', (dir) => {
      const file = join(dir, validatorsName('election'));
      writeFileSync(file, readFileSync(file, 'utf8').split('\n')[0] + '\nnot JavaScript');
    });
    const v = new FrameValidator(schemas, 'election', data);
    expect(compiledInto(data)).toEqual([]);
    expect(v.check(VOTE).ok).toBe(true);
    expect(compiledInto(data)).toHaveLength(1);
    expect(v.check(VOTE.replace('"term":1', '"term":-1'))).toMatchObject({ ok: false });
  });

  it('are ignored when absent or not code', () => {
    const { schemas, data } = folders('broken', (dir) => writeFileSync(join(dir, validatorsName('election')), 'not JavaScript'));
    expect(new FrameValidator(schemas, 'election', data).check(VOTE).ok).toBe(true);
    expect(compiledInto(data)).toHaveLength(1);
  });
});
