/**
 * A node's context in its trace is written as what changed since its record before: read back,
 * every record has its whole context, whatever the machine did to it (in place or not), and a
 * context that only grows at its end costs the trace what grew, not the whole list again.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { freezeNew } from '../src/freeze-new.js';
import { applyContextDelta, ContextEncoder, sharedPrefix } from '../src/runtime/trace-context.js';
import { readTrace, TraceWriter, type NodeRecord } from '../src/runtime/trace-log.js';

const root = mkdtempSync(join(tmpdir(), 'coordkit-trace-context-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const record = (seq: number, context: unknown, kind: NodeRecord['kind'] = 'peer'): NodeRecord => ({ node: 2, seq, time: 1_000 + seq, kind, after: 'idle', context, sends: [], notes: [], timers: [], cancels: [] });
/** As the trace would hold it: JSON, so undefined fields are gone. */
const asJson = (v: unknown) => JSON.parse(JSON.stringify(v));

describe('contexts in the trace', () => {
  it('every context read back is the one written, over random sequences of changes', () => {
    const item = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.string({ maxLength: 12 }), fc.record({ slot: fc.nat(3), value: fc.string({ maxLength: 12 }) }));
    const value = fc.oneof(fc.integer(), fc.string({ maxLength: 40 }), fc.constant(null), fc.constant(undefined), fc.array(item, { maxLength: 12 }));
    const context = fc.dictionary(fc.constantFrom('a', 'b', 'log', 'acks'), value, { maxKeys: 4 });
    fc.assert(
      fc.property(fc.array(fc.oneof(context, fc.constant('not an object'), fc.array(fc.integer())), { minLength: 1, maxLength: 12 }), (contexts) => {
        const file = join(mkdtempSync(join(root, 'p-')), 'trace.ndjson');
        const w = new TraceWriter(file);
        contexts.forEach((c, i) => w.buffer(record(i, c, i === 0 ? 'init' : 'peer')));
        w.flush();
        w.close();
        const read = readTrace(file) as NodeRecord[];
        expect(read.map((r) => r.context)).toEqual(contexts.map(asJson));
        expect(read.every((r) => !('contextDelta' in r))).toBe(true);
      }),
      { numRuns: 150, seed: 16 },
    );
  });

  it('every context read back is the one written, over runs of small edits of a growing log', () => {
    const edit = fc.oneof(
      fc.record({ push: fc.string({ maxLength: 20 }) }),
      fc.record({ at: fc.nat(30), value: fc.string({ maxLength: 20 }) }),
      fc.record({ term: fc.nat(5) }),
      fc.record({ drop: fc.nat(3) }),
    );
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 20 }), { maxLength: 10 }), fc.array(edit, { minLength: 1, maxLength: 25 }), (start, edits) => {
        const file = join(mkdtempSync(join(root, 'e-')), 'trace.ndjson');
        const w = new TraceWriter(file);
        // Edited in place, as a careless machine would: the encoder compares text, not references.
        const context = { term: 0, log: [...start], accepted: start.map((value, slot) => ({ slot, value })) };
        const written: unknown[] = [];
        const write = (kind: NodeRecord['kind']) => {
          w.buffer(record(written.length, context, kind));
          written.push(asJson(context));
        };
        write('init');
        for (const e of edits) {
          if ('push' in e) {
            context.log.push(e.push);
            context.accepted.push({ slot: context.accepted.length, value: e.push });
          } else if ('at' in e) {
            if (context.accepted.length) context.accepted[e.at % context.accepted.length].value = e.value;
          } else if ('term' in e) context.term = e.term;
          else context.log.splice(Math.max(0, context.log.length - e.drop));
          write('peer');
        }
        w.flush();
        w.close();
        expect((readTrace(file) as NodeRecord[]).map((r) => r.context)).toEqual(written);
      }),
      { numRuns: 150, seed: 17 },
    );
  });

  it('frozen contexts, replaced and never edited (as the host keeps them): read back as written, each field\'s text as JSON.stringify gives it', () => {
    const item = fc.oneof(fc.string({ maxLength: 20 }), fc.record({ slot: fc.nat(30), value: fc.string({ maxLength: 20 }), gone: fc.constant(undefined) }), fc.constant(null));
    const edit = fc.oneof(
      fc.record({ push: item }),
      fc.record({ at: fc.nat(30), value: item }),
      fc.record({ term: fc.nat(5) }),
      fc.record({ drop: fc.nat(3) }),
      fc.record({ same: fc.constant(true) }),
      fc.record({ copy: fc.constant(true) }),
    );
    fc.assert(
      fc.property(fc.array(item, { maxLength: 10 }), fc.array(edit, { minLength: 1, maxLength: 30 }), (start, edits) => {
        const file = join(mkdtempSync(join(root, 'f-')), 'trace.ndjson');
        const w = new TraceWriter(file, undefined, { frozen: true });
        let context: { term: number; log: unknown[]; note: { n: number } } = { term: 0, log: [...start], note: { n: 1 } };
        const written: unknown[] = [];
        const write = (kind: NodeRecord['kind']) => {
          freezeNew(context);
          w.buffer(record(written.length, context, kind));
          written.push(asJson(context));
          for (const [k, v] of Object.entries(context)) if (typeof v === 'object') expect(w.textOf(v), k).toBe(JSON.stringify(v));
        };
        write('init');
        for (const e of edits) {
          // Each step makes a new context and new lists, keeping the items it did not change (the same objects).
          if ('push' in e) context = { ...context, log: [...context.log, e.push] };
          else if ('at' in e) context = { ...context, log: context.log.map((v, i) => (i === e.at % Math.max(1, context.log.length) ? e.value : v)) };
          else if ('term' in e) context = { ...context, term: e.term, note: { n: e.term } };
          else if ('drop' in e) context = { ...context, log: context.log.slice(0, Math.max(0, context.log.length - e.drop)) };
          else if ('copy' in e) context = { ...context, log: [...context.log] };
          write('peer');
        }
        w.flush();
        w.close();
        expect((readTrace(file) as NodeRecord[]).map((r) => r.context)).toEqual(written);
      }),
      { numRuns: 200, seed: 18 },
    );
  });

  it('a frozen context cannot be edited in place: what the host freezes throws on an edit, what the step before froze stays shared', () => {
    const log = ['a'];
    const c = { log, inner: { n: 1 } };
    freezeNew(c);
    expect(() => (c.log as string[]).push('b')).toThrow(TypeError);
    expect(() => {
      (c.inner as { n: number }).n = 2;
    }).toThrow(TypeError);
    const next = { ...c, term: 2 };
    expect(Object.isFrozen(next)).toBe(false);
    freezeNew(next);
    expect(Object.isFrozen(next) && next.log === log).toBe(true);
  });

  it('a list changed in place, and a field cleared, are traced as they are', () => {
    const e = new ContextEncoder();
    const first = 'a'.repeat(40);
    const log = [first];
    const c: Record<string, unknown> = { log, term: 1 };
    let base = asJson((e.encode(c, true) as { context: unknown }).context);
    log.push('b'); // the same array, one more item: its text begins as before
    const d1 = e.encode(c, false);
    expect(d1).toEqual({ contextDelta: { splice: { log: [JSON.stringify(first).length + 1, ',"b"]'] } } });
    base = applyContextDelta(base, (d1 as { contextDelta: never }).contextDelta);
    expect(base).toEqual({ log: [first, 'b'], term: 1 });
    c.term = 2; // a short field is written whole
    expect(e.encode(c, false)).toEqual({ contextDelta: { set: { term: 2 } } });
    c.term = undefined; // gone from the JSON: the keys changed, so it is written whole
    expect(e.encode(c, false)).toEqual({ context: c });
  });

  it('shares the longest common beginning of two texts', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (common, a, b) => {
        const n = sharedPrefix(common + a, common + b);
        expect((common + a).slice(0, n)).toBe((common + b).slice(0, n));
        expect(n >= common.length).toBe(true);
        expect(n === Math.min(common.length + a.length, common.length + b.length) || (common + a)[n] !== (common + b)[n]).toBe(true);
      }),
      { numRuns: 300, seed: 16 },
    );
  });

  it('a list that only grows at its end costs each record what grew', () => {
    const file = join(root, 'growing.ndjson');
    const w = new TraceWriter(file);
    let log: string[] = [];
    for (let i = 0; i < 2_000; i++) {
      log = [...log, `value-${i}`];
      w.buffer(record(i, { id: 2, log, slot: i + 1 }, i === 0 ? 'init' : 'peer'));
    }
    w.flush();
    w.close();
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    // Whole, the last record alone would hold every value (about 30 KB); each delta holds one.
    expect(Math.max(...lines.slice(1).map((l) => l.length))).toBeLessThan(300);
    expect(statSync(file).size).toBeLessThan(2_000 * 300);
    expect((readTrace(file).at(-1) as NodeRecord).context).toEqual({ id: 2, log, slot: 2_000 });
  });

  it('a delta with no whole context before it is a bad trace, named by its line', () => {
    const file = join(root, 'orphan.ndjson');
    const w = new TraceWriter(file);
    w.buffer(record(0, { log: [] }, 'init'));
    w.buffer(record(1, { log: ['x'] }));
    w.flush();
    w.close();
    const second = readFileSync(file, 'utf8').trim().split('\n')[1];
    const orphan = join(root, 'orphan-only.ndjson');
    new TraceWriter(orphan).append(JSON.parse(second));
    const text = readFileSync(orphan, 'utf8');
    expect(text).toMatch(/"contextDelta"/);
    expect(() => readTrace(orphan)).toThrow(/orphan-only\.ndjson:1: a context delta with no whole context before it/);
  });
});
