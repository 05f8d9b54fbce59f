/**
 * A restarted node numbers its next trace record from the end of its trace, not by parsing the
 * whole file: the trace grows for the node's whole life, and a start must not grow with it.
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nextSeq, readTrace, truncateTornTail, type NodeRecord } from '../src/runtime/trace-log.js';

const root = mkdtempSync(join(tmpdir(), 'coordkit-seq-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const record = (seq: number, pad = 0) => ({ node: 1, seq, time: seq, kind: 'peer', after: 'follower', context: { pad: 'x'.repeat(pad) }, sends: [], notes: [], timers: [], cancels: [] }) as NodeRecord;
const line = (seq: number, pad = 0) => JSON.stringify(record(seq, pad)) + '\n';

describe('nextSeq', () => {
  it('is 0 for no trace and for an empty one', () => {
    expect(nextSeq(join(root, 'none.ndjson'))).toBe(0);
    writeFileSync(join(root, 'empty.ndjson'), '');
    expect(nextSeq(join(root, 'empty.ndjson'))).toBe(0);
  });

  it('is the number of records readTrace finds, for short and long traces', () => {
    for (const [name, count, pad] of [['one', 1, 0], ['many', 3000, 10], ['wide', 7, 200_000]] as const) {
      const file = join(root, `${name}.ndjson`);
      writeFileSync(file, '');
      for (let seq = 0; seq < count; seq++) appendFileSync(file, line(seq, pad));
      expect(nextSeq(file), name).toBe(count);
      expect(readTrace(file).length, name).toBe(count);
    }
  });

  it('after a torn tail is cut, counts the complete records only', () => {
    const file = join(root, 'torn.ndjson');
    writeFileSync(file, line(0) + line(1) + line(2).slice(0, 30));
    expect(truncateTornTail(file)).toEqual({ line: 3, bytes: 30 });
    expect(nextSeq(file)).toBe(2);
  });

  it('refuses a last line that is no record (a trace someone edited), naming the file', () => {
    const file = join(root, 'bad.ndjson');
    writeFileSync(file, line(0) + '{"node":1}\n');
    expect(() => nextSeq(file)).toThrow(/bad\.ndjson: last line has no record number/);
    writeFileSync(file, line(0) + 'garbage\n');
    expect(() => nextSeq(file)).toThrow(/bad\.ndjson: last line is not a trace record/);
  });
});
