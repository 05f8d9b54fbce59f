/**
 * The write-ahead log on its own: the record format, recovery of torn and corrupt tails, group
 * commit (saves made while a flush runs ride the next one: counted flushes), compaction and the
 * leftovers of an unfinished one.
 */
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeDisk, type DiskIo } from '../src/runtime/disk-io.js';
import { CorruptStateError, DurableStore, IDLE_FLUSH_MS, readStoredState, RECORDS_PER_SEGMENT } from '../src/runtime/durable-store.js';
import { crc32, crc32Table, encodeRecord, HEADER_BYTES, scanLog } from '../src/runtime/wal-format.js';

const root = mkdtempSync(join(tmpdir(), 'coordkit-wal-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, `d${dirs++}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The real disk, with every fdatasync taking at least `ms` more (a slow shared disk). */
function slowDisk(ms: number): DiskIo & { syncs: number } {
  const disk = {
    ...nodeDisk,
    syncs: 0,
    fdatasync: async (fd: number) => {
      disk.syncs++;
      await sleep(ms);
      return nodeDisk.fdatasync(fd);
    },
  };
  return disk;
}

/** Resolves once `ticket` is on disk. */
const durableAt = (store: DurableStore, ticket: number) =>
  new Promise<void>((resolve, reject) => {
    if (store.durable >= ticket) return resolve();
    store.onDurable = (t) => t >= ticket && resolve();
    store.onFault = reject;
  });

const record = (s: string) => encodeRecord(Buffer.from(s));

describe('record format', () => {
  it('CRC-32 is the standard one, zlib\'s and the table\'s alike', () => {
    for (const crc of [crc32, crc32Table]) {
      expect(crc(Buffer.from('123456789'))).toBe(0xcbf43926);
      expect(crc(Buffer.alloc(0))).toBe(0);
    }
    for (let i = 0; i < 50; i++) {
      const bytes = Buffer.from(Array.from({ length: 1 + i * 37 }, (_, k) => (k * 131 + i * 7) & 0xff));
      expect(crc32(bytes)).toBe(crc32Table(bytes));
    }
  });

  it('reads every record of a clean log', () => {
    const scan = scanLog(Buffer.concat([record('a'), record('bb'), record('ccc')]));
    expect(scan.records.map(String)).toEqual(['a', 'bb', 'ccc']);
    expect(scan.tail).toBe('clean');
  });

  it('a record cut anywhere is a torn tail ending after the last whole one', () => {
    const whole = Buffer.concat([record('first'), record('second')]);
    const last = record('third-record');
    for (let cut = 1; cut < last.length; cut++) {
      const scan = scanLog(Buffer.concat([whole, last.subarray(0, cut)]));
      expect(scan.tail, `cut at ${cut}`).toBe('torn');
      expect(scan.end).toBe(whole.length);
      expect(scan.records.map(String)).toEqual(['first', 'second']);
    }
  });

  it('zeros past the end (a size extended before the data landed) and a flipped bit in the last record are torn tails', () => {
    const whole = record('kept');
    expect(scanLog(Buffer.concat([whole, Buffer.alloc(300)])).tail).toBe('torn');
    const flipped = record('last one');
    flipped[HEADER_BYTES + 2] ^= 0x10;
    const scan = scanLog(Buffer.concat([whole, flipped]));
    expect(scan).toMatchObject({ tail: 'torn', end: whole.length });
  });

  it('a bad record with a good one after it is corruption, not a tear', () => {
    const bad = record('middle');
    bad[HEADER_BYTES] ^= 0x01;
    const scan = scanLog(Buffer.concat([record('a'), bad, record('after')]));
    expect(scan).toMatchObject({ tail: 'corrupt', end: record('a').length });
  });
});

describe('the durable store', () => {
  it('a first start has no state; what is saved is read back', async () => {
    const dir = freshDir();
    const store = new DurableStore(dir, 'p', 1);
    expect(store.load()).toBeUndefined();
    const t = store.save({ term: 1 });
    await durableAt(store, t);
    await store.close();
    expect(new DurableStore(dir, 'p', 1).load()).toEqual({ term: 1 });
    expect(readStoredState(dir)).toEqual({ primitive: 'p', node: 1, durable: { term: 1 } });
  });

  it('an unchanged state is not written again and needs no flush', async () => {
    const store = new DurableStore(freshDir(), 'p', 1);
    store.load();
    const t = store.save({ term: 1 });
    await durableAt(store, t);
    expect(store.save({ term: 1 })).toBe(t);
    expect(store.flushes).toBe(1);
    await store.close();
  });

  it('a state saved lazily waits for someone to need it, or for IDLE_FLUSH_MS, and rides the next flush', async () => {
    const dir = freshDir();
    const store = new DurableStore(dir, 'p', 1);
    store.load();
    const lazy = store.save({ term: 1 }, 'lazily');
    await sleep(5);
    expect([store.flushes, store.durable]).toEqual([0, 0]);
    // A later state someone waits for carries it: one flush, one record, both tickets durable.
    const needed = store.save({ term: 2 }, 'lazily');
    store.need(needed);
    await durableAt(store, needed);
    expect([store.flushes, store.writes, store.durable >= lazy]).toEqual([1, 1, true]);
    // Nobody needs it: it still reaches the disk within IDLE_FLUSH_MS.
    const idle = store.save({ term: 3 }, 'lazily');
    const saved = Date.now();
    await durableAt(store, idle);
    expect(Date.now() - saved).toBeGreaterThanOrEqual(IDLE_FLUSH_MS - 5);
    expect(readStoredState(dir)!.durable).toEqual({ term: 3 });
    // Closing writes a lazily saved state at once.
    store.save({ term: 4 }, 'lazily');
    await store.close();
    expect(new DurableStore(dir, 'p', 1).load()).toEqual({ term: 4 });
  });

  it('torn tails are cut at restart, reported, and the log goes on from there', async () => {
    for (const junk of [record('{"primitive":"p","node":1,"durable":{"term":9}}').subarray(0, 13), Buffer.alloc(512)]) {
      const dir = freshDir();
      const store = new DurableStore(dir, 'p', 1);
      store.load();
      await durableAt(store, store.save({ term: 1 }));
      await durableAt(store, store.save({ term: 2 }));
      await store.close();
      const file = join(dir, 'wal-000001.log');
      const size = readFileSync(file).length;
      appendFileSync(file, junk);
      const again = new DurableStore(dir, 'p', 1);
      expect(again.load()).toEqual({ term: 2 });
      expect(again.torn).toEqual({ file, bytes: junk.length });
      expect(readFileSync(file).length).toBe(size);
      await durableAt(again, again.save({ term: 3 }));
      await again.close();
      expect(new DurableStore(dir, 'p', 1).load()).toEqual({ term: 3 });
    }
  });

  it('a corrupt record before good ones stops the start with one line and leaves the file alone', async () => {
    const dir = freshDir();
    const store = new DurableStore(dir, 'p', 1);
    store.load();
    for (let term = 1; term <= 3; term++) await durableAt(store, store.save({ term }));
    await store.close();
    const file = join(dir, 'wal-000001.log');
    const data = readFileSync(file);
    data[HEADER_BYTES + 3] ^= 0x20;
    writeFileSync(file, data);
    expect(() => new DurableStore(dir, 'p', 1).load()).toThrow(CorruptStateError);
    expect(() => new DurableStore(dir, 'p', 1).load()).toThrow(/^write-ahead log \S+wal-000001\.log is corrupt at byte 0: a bad record with good ones after it$/);
    expect(readFileSync(file)).toEqual(data);
  });

  it("another node's log is refused", async () => {
    const dir = freshDir();
    const store = new DurableStore(dir, 'p', 2);
    store.load();
    await durableAt(store, store.save({ term: 1 }));
    await store.close();
    expect(() => new DurableStore(dir, 'p', 1).load()).toThrow(/belongs to p node 2, not p node 1/);
  });

  it('group commit: saves made while a flush runs ride the next one', async () => {
    const disk = slowDisk(40);
    const dir = freshDir();
    const store = new DurableStore(dir, 'p', 1, disk);
    store.load();
    // 200 saves from "concurrent" work: bursts of 20, an event-loop turn apart, while flushes take 40 ms.
    let last = 0;
    for (let burst = 0; burst < 10; burst++) {
      for (let i = 0; i < 20; i++) last = store.save({ term: burst * 20 + i + 1 });
      await sleep(5);
    }
    expect(last).toBe(200);
    await durableAt(store, last);
    // The first save flushes alone; everything saved during a flush waits for the next: a handful, never one per save.
    expect(store.flushes).toBeGreaterThanOrEqual(2);
    expect(store.flushes).toBeLessThanOrEqual(6);
    expect(disk.syncs).toBe(store.flushes);
    await store.close();
    expect(new DurableStore(dir, 'p', 1).load()).toEqual({ term: 200 });
  });

  it('without overlap every save is its own flush (the count above is not a constant)', async () => {
    const store = new DurableStore(freshDir(), 'p', 1, slowDisk(1));
    store.load();
    for (let term = 1; term <= 5; term++) await durableAt(store, store.save({ term }));
    expect(store.flushes).toBe(5);
    await store.close();
  });

  it('compaction keeps one segment holding the newest state', async () => {
    const dir = freshDir();
    const store = new DurableStore(dir, 'p', 1, nodeDisk, { segmentBytes: 400 });
    store.load();
    for (let term = 1; term <= 60; term++) await durableAt(store, store.save({ term, padding: 'x'.repeat(20) }));
    expect(store.compactions).toBeGreaterThan(5);
    await store.close();
    const segments = readdirSync(dir).filter((f) => f.startsWith('wal-'));
    expect(segments).toHaveLength(1);
    expect(readFileSync(join(dir, segments[0])).length).toBeLessThanOrEqual(400);
    expect(new DurableStore(dir, 'p', 1).load()).toEqual({ term: 60, padding: 'x'.repeat(20) });
  });

  it('an unfinished compaction: an empty newer segment is discarded, a newer one with a record wins and the old one goes', async () => {
    const dir = freshDir();
    const store = new DurableStore(dir, 'p', 1);
    store.load();
    await durableAt(store, store.save({ term: 4 }));
    await store.close();
    writeFileSync(join(dir, 'wal-000002.log'), record('{"primitive":"p"').subarray(0, 6));
    expect(new DurableStore(dir, 'p', 1).load()).toEqual({ term: 4 });
    expect(existsSync(join(dir, 'wal-000002.log'))).toBe(false);

    writeFileSync(join(dir, 'wal-000002.log'), record(JSON.stringify({ primitive: 'p', node: 1, durable: { term: 5 } })));
    const again = new DurableStore(dir, 'p', 1);
    expect(again.load()).toEqual({ term: 5 });
    expect(existsSync(join(dir, 'wal-000001.log'))).toBe(false);
    await again.close();
  });

  it('a state file from before the log is read, and the log takes over from its first record', async () => {
    const dir = freshDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ primitive: 'p', node: 1, durable: { term: 40 } }));
    const store = new DurableStore(dir, 'p', 1);
    expect(store.load()).toEqual({ term: 40 });
    await durableAt(store, store.save({ term: 41 }));
    await store.close();
    expect(new DurableStore(dir, 'p', 1).load()).toEqual({ term: 41 });
  });

  /** Every record's payload in a folder's one segment, parsed. */
  const payloads = (dir: string) => {
    const [segment] = readdirSync(dir).filter((f) => f.startsWith('wal-'));
    return scanLog(readFileSync(join(dir, segment))).records.map((r) => JSON.parse(r.toString('utf8')));
  };

  it('after the first record, a record holds what changed: a growing list costs what grew, and a restart replays it back', async () => {
    const dir = freshDir();
    const store = new DurableStore(dir, 'p', 1);
    store.load();
    const log: string[] = [];
    for (let slot = 1; slot <= 300; slot++) {
      log.push(`value-${slot}`);
      await durableAt(store, store.save({ term: 1 + Math.floor(slot / 100), log: [...log], proposal: slot % 7 ? null : { slot } }));
    }
    await store.close();
    const records = payloads(dir);
    expect(records).toHaveLength(300);
    expect(records[0]).toMatchObject({ primitive: 'p', node: 1, durable: { term: 1, log: ['value-1'] } });
    expect(records.slice(1).every((r) => r.delta && !r.durable)).toBe(true);
    // The last record is a few dozen bytes, the state it makes over 3 KB.
    const last = JSON.stringify(records.at(-1));
    expect(last.length).toBeLessThan(200);
    expect(JSON.stringify({ log }).length).toBeGreaterThan(3000);
    const want = { term: 4, log, proposal: null };
    expect(new DurableStore(dir, 'p', 1).load()).toEqual(want);
    expect(readStoredState(dir)?.durable).toEqual(want);
  });

  it('a state whose keys changed is written whole, mid-segment, and replayed from there', async () => {
    const dir = freshDir();
    const store = new DurableStore(dir, 'p', 1);
    store.load();
    await durableAt(store, store.save({ term: 1, list: ['a'.repeat(40)] }));
    await durableAt(store, store.save({ term: 1, list: ['a'.repeat(40), 'b'] }));
    await durableAt(store, store.save({ term: 2, list: ['a'.repeat(40), 'b'], votedFor: 3 }));
    await durableAt(store, store.save({ term: 2, list: ['a'.repeat(40), 'b', 'c'], votedFor: 3 }));
    await store.close();
    expect(payloads(dir).map((r) => (r.durable ? 'whole' : 'delta'))).toEqual(['whole', 'delta', 'whole', 'delta']);
    expect(new DurableStore(dir, 'p', 1).load()).toEqual({ term: 2, list: ['a'.repeat(40), 'b', 'c'], votedFor: 3 });
  });

  it(`a segment takes at most RECORDS_PER_SEGMENT (${RECORDS_PER_SEGMENT}) records: the next starts with the state whole, so a restart replays a bounded number`, async () => {
    const dir = freshDir();
    const store = new DurableStore(dir, 'p', 1);
    store.load();
    for (let term = 1; term <= RECORDS_PER_SEGMENT + 10; term++) await durableAt(store, store.save({ term, list: Array.from({ length: term % 50 }, (_, i) => i) }));
    expect(store.compactions).toBe(1);
    await store.close();
    const records = payloads(dir);
    expect(records).toHaveLength(10);
    expect(records[0].durable).toBeDefined();
    const n = RECORDS_PER_SEGMENT + 10;
    expect(new DurableStore(dir, 'p', 1).load()).toEqual({ term: n, list: Array.from({ length: n % 50 }, (_, i) => i) });
  });

  it('a torn delta is cut and the state before it stands; a delta with nothing whole before it, or one that does not fit, is corruption', async () => {
    const dir = freshDir();
    const store = new DurableStore(dir, 'p', 1);
    store.load();
    await durableAt(store, store.save({ list: ['x'.repeat(40)] }));
    await durableAt(store, store.save({ list: ['x'.repeat(40), 'y'] }));
    await store.close();
    const file = join(dir, 'wal-000001.log');
    const good = readFileSync(file);
    const delta = (d: object) => record(JSON.stringify({ primitive: 'p', node: 1, delta: d }));
    appendFileSync(file, delta({ splice: { list: [45, ',"z"]'] } }).subarray(0, 20));
    expect(new DurableStore(dir, 'p', 1).load()).toEqual({ list: ['x'.repeat(40), 'y'] });
    const cases: [Buffer, RegExp][] = [
      [Buffer.concat([delta({ set: { list: [] } }), good]), /record 1: a delta with no whole state before it$/],
      [Buffer.concat([good, delta({ splice: { list: [9999, ']'] } })]), /record 3: a delta splices field list the state before it cannot take$/],
      [Buffer.concat([good, delta({ set: { other: 1 } })]), /record 3: a delta sets field other, which the state before it does not have$/],
      [Buffer.concat([good, delta({ splice: { list: [3, '}'] } })]), /its records make no JSON state/],
      [Buffer.concat([good, record(JSON.stringify({ primitive: 'p', node: 2, delta: {} }))]), /record 3: p node 2 after p node 1$/],
    ];
    for (const [data, message] of cases) {
      writeFileSync(file, data);
      expect(() => new DurableStore(dir, 'p', 1).load()).toThrow(CorruptStateError);
      expect(() => new DurableStore(dir, 'p', 1).load()).toThrow(message);
      expect(() => readStoredState(dir)).toThrow(message);
      expect(readFileSync(file)).toEqual(data);
    }
  });

  it('texts the caller serialized already are used as given (the trace\'s, for the same step)', async () => {
    const dir = freshDir();
    const store = new DurableStore(dir, 'p', 1);
    store.load();
    const list = [1, 2, 3];
    // A text that differs from the value shows which one was written.
    await durableAt(store, store.save({ term: 1, list }, 'now', (v) => (v === list ? '[1,2,3,4]' : undefined)));
    await store.close();
    expect(new DurableStore(dir, 'p', 1).load()).toEqual({ term: 1, list: [1, 2, 3, 4] });
  });
});
