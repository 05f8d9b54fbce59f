/**
 * The durable part of a node's context on disk, as a write-ahead log (wal-format.ts): each flush
 * appends one checksummed record and ends with fdatasync. A segment's first record holds the
 * whole durable context; a later one may hold only what changed since the record before it (a
 * `delta`, in the trace's context-delta form, trace-context.ts): a context that keeps a growing
 * list (a consensus node keeps every decided slot) then writes, checksums and syncs what grew,
 * not the whole list with every flush. A restarted node replays its segment up to the last
 * record that checks out; a file that cannot be read or does not belong to this node is a
 * startup error, never a silent reset (a reset node could vote twice in a term).
 *
 * Group commit: flushes run off the event loop, at most FLUSHES_IN_FLIGHT syncing at once. Every
 * state saved while they run rides the next one, and since a record makes the whole context,
 * that flush writes only the newest (a later state supersedes the ones before it). `save` returns a ticket, `durable` says which
 * tickets are on disk; the host holds back whatever depends on a state until its ticket is.
 *
 * A state saved `lazily` starts no flush: the host saves every step so, and asks for the flush
 * (`need`) only when something waits for it. A step that sends nothing and tells no client (a
 * follower learning a decision) then costs no write of its own; its state rides the next flush,
 * or is written IDLE_FLUSH_MS later. A kill before that loses the step, as a kill before the
 * step would have: nothing of it left the process.
 *
 * Compaction: when the segment (`wal-NNNNNN.log`) would pass `segmentBytes`, or holds
 * RECORDS_PER_SEGMENT records (what a restart replays is bounded), the flush writes the
 * newest state whole as the first record of the next segment, fdatasyncs it and the folder, and only
 * then deletes the old one. A crash in between leaves two segments; the newer wins if it holds a
 * record, and is discarded if it does not (its record was never promised to anyone).
 *
 * A crash mid-append leaves a torn tail: cut off at the next start and reported, never fatal. A
 * bad record with good ones after it is corruption, a startup error. A failed write, fdatasync
 * or compaction (full disk, read-only folder, I/O error) is a `DiskFault` handed to `onFault`
 * once; no later save is written and no ticket after the fault is ever reported durable.
 *
 * A `state.json` from a version without the log is read when no segment holds a record.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeQuietly, diskCall, diskCallAsync, DiskFault, nodeDisk, writeAll, type DiskIo } from './disk-io.js';
import { encodeRecord, scanLog } from './wal-format.js';
import { spliced, spliceFrom } from './trace-context.js';

/** What each record holds. */
export interface StoredState {
  primitive: string;
  node: number;
  durable: object;
}

/** A log or state file that is unreadable, corrupt or another node's. */
export class CorruptStateError extends Error {}

/** Past this, the next flush starts a new segment with the newest state (a snapshot). */
export const DEFAULT_SEGMENT_BYTES = 1 << 20;

/** Past this many records, the next flush starts a new segment with the newest state whole: a restart replays at most this many. */
export const RECORDS_PER_SEGMENT = 1024;

/** Flushes that may sync at once: with two, a state saved during a flush waits for one sync, not for the end of that one and then its own. */
export const FLUSHES_IN_FLIGHT = 2;

/** How long a state saved lazily (no effect waits for it) may stay off the disk at most. */
export const IDLE_FLUSH_MS = 50;

const SEGMENT = /^wal-(\d{6,})\.log$/;
const segmentName = (n: number) => `wal-${String(n).padStart(6, '0')}.log`;

/** The log's segments in a folder, newest first. */
function segmentsIn(dir: string): { n: number; file: string }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((f) => SEGMENT.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ n: Number(m[1]), file: join(dir, m[0]) }))
    .sort((a, b) => b.n - a.n);
}

/** A durable context as the log writes it: its keys in order and each field's JSON text. */
interface Fields {
  keys: string[];
  texts: Map<string, string>;
}

/** A field whose value has no JSON text is left out, as JSON.stringify leaves it out of an object. */
function fieldsOf(durable: object, textOf?: (value: unknown) => string | undefined): Fields {
  const keys: string[] = [];
  const texts = new Map<string, string>();
  for (const [k, v] of Object.entries(durable)) {
    const text = textOf?.(v) ?? JSON.stringify(v);
    if (text === undefined) continue;
    keys.push(k);
    texts.set(k, text);
  }
  return { keys, texts };
}

const wholeText = (f: Fields) => `{${f.keys.map((k) => `${JSON.stringify(k)}:${f.texts.get(k)}`).join(',')}}`;

const sameKeys = (a: Fields, b: Fields) => a.keys.length === b.keys.length && a.keys.every((k, i) => b.keys[i] === k);

const sameFields = (a: Fields, b: Fields) => sameKeys(a, b) && a.keys.every((k) => a.texts.get(k) === b.texts.get(k));

/** What turns `base` into `now`, as the trace's context delta (`set` whole, `splice` [from, tail] of the JSON text); null when the keys differ. */
function deltaText(base: Fields, now: Fields): string | null {
  if (!sameKeys(base, now)) return null;
  const set: string[] = [];
  const splice: string[] = [];
  for (const k of now.keys) {
    const was = base.texts.get(k)!;
    const text = now.texts.get(k)!;
    if (was === text) continue;
    const from = spliceFrom(was, text);
    if (from !== null) splice.push(`${JSON.stringify(k)}:[${from},${JSON.stringify(text.slice(from))}]`);
    else set.push(`${JSON.stringify(k)}:${text}`);
  }
  return `{"set":{${set.join(',')}},"splice":{${splice.join(',')}}}`;
}

/** What a segment's records make, in order: its last state, or undefined when it holds none. */
function replay(records: Buffer[], where: string): { stored: StoredState; fields: Fields } | undefined {
  const corrupt = (i: number, why: string) => new CorruptStateError(`${where} is corrupt: record ${i + 1}: ${why}`);
  let fields: Fields | null = null;
  let owner: { primitive: string; node: number } | null = null;
  records.forEach((payload, i) => {
    let parsed: { primitive?: unknown; node?: unknown; durable?: unknown; delta?: { set?: unknown; splice?: unknown } };
    try {
      parsed = JSON.parse(payload.toString('utf8'));
    } catch (err) {
      throw corrupt(i, (err as Error).message.split('\n')[0]);
    }
    if (!parsed || typeof parsed !== 'object' || typeof parsed.primitive !== 'string' || typeof parsed.node !== 'number') throw corrupt(i, 'no primitive and node');
    if (owner && (owner.primitive !== parsed.primitive || owner.node !== parsed.node)) throw corrupt(i, `${parsed.primitive} node ${parsed.node} after ${owner.primitive} node ${owner.node}`);
    owner = { primitive: parsed.primitive, node: parsed.node };
    const { durable, delta } = parsed;
    if (typeof durable === 'object' && durable !== null && !Array.isArray(durable)) {
      fields = fieldsOf(durable);
      return;
    }
    if (typeof delta !== 'object' || delta === null) throw corrupt(i, 'no durable object');
    if (!fields) throw corrupt(i, 'a delta with no whole state before it');
    const texts = new Map(fields.texts);
    const entries = (v: unknown) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.entries(v) : v === undefined ? [] : null);
    const set = entries(delta.set);
    const splice = entries(delta.splice);
    if (!set || !splice) throw corrupt(i, 'a malformed delta');
    for (const [k, v] of set) {
      if (!texts.has(k)) throw corrupt(i, `a delta sets field ${k}, which the state before it does not have`);
      texts.set(k, JSON.stringify(v));
    }
    for (const [k, cut] of splice) {
      const was = texts.get(k);
      const text = was === undefined ? null : spliced(was, cut);
      if (text === null) throw corrupt(i, `a delta splices field ${k} the state before it cannot take`);
      texts.set(k, text);
    }
    fields = { keys: fields.keys, texts };
  });
  if (!fields || !owner) return undefined;
  let durable: object;
  try {
    durable = JSON.parse(wholeText(fields));
  } catch (err) {
    throw new CorruptStateError(`${where} is corrupt: its records make no JSON state: ${(err as Error).message.split('\n')[0]}`);
  }
  const { primitive, node } = owner as { primitive: string; node: number };
  // The texts again, from the parsed state: one flat string per field for the deltas to come.
  return { stored: { primitive, node, durable }, fields: fieldsOf(durable) };
}

function parseStored(text: string, where: string): StoredState {
  let parsed: StoredState;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CorruptStateError(`${where} is corrupt: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!parsed || typeof parsed !== 'object' || typeof parsed.durable !== 'object' || parsed.durable === null || Array.isArray(parsed.durable)) {
    throw new CorruptStateError(`${where} is corrupt: no durable object`);
  }
  return parsed;
}

/** What a folder's log (or legacy state file) holds last, read only: for tests and tools. */
export function readStoredState(dir: string): StoredState | undefined {
  for (const { file } of segmentsIn(dir)) {
    const scan = scanLog(readFileSync(file));
    if (scan.tail === 'corrupt') throw new CorruptStateError(`write-ahead log ${file} is corrupt at byte ${scan.end}: a bad record with good ones after it`);
    const state = replay(scan.records, `write-ahead log ${file}`);
    if (state) return state.stored;
  }
  const legacy = join(dir, 'state.json');
  return existsSync(legacy) ? parseStored(readFileSync(legacy, 'utf8'), `state file ${legacy}`) : undefined;
}

export interface StoreOptions {
  segmentBytes?: number;
}

interface Segment {
  n: number;
  file: string;
  fd: number;
  size: number;
  /** Records in it (the first one whole). */
  records: number;
}

export class DurableStore {
  /** The segment being appended to. */
  private segment: Segment | null = null;
  /** The newest state saved. */
  private saved: Fields | null = null;
  /** The newest state saved, not yet being flushed. */
  private pending: Fields | null = null;
  /** The state the last record written makes: what the next record's delta is against. */
  private written: Fields | null = null;
  /** Flushes under way (at most FLUSHES_IN_FLIGHT; a compaction runs alone). */
  private readonly running = new Set<Promise<void>>();
  private compacting = false;
  private failed: DiskFault | null = null;
  private closing = false;
  private readonly segmentBytes: number;
  /** Tickets handed out by `save`, and those on disk (every ticket up to it). */
  submitted = 0;
  durable = 0;
  /** Flushes done (each one write and one fdatasync), records written, segments started by compaction. */
  flushes = 0;
  writes = 0;
  compactions = 0;
  /** What `load` cut off the end of the log. */
  torn: { file: string; bytes: number } | null = null;
  /** Called after each flush with the highest ticket now on disk. */
  onDurable: (ticket: number) => void = () => {};
  /** Called once when a flush fails. */
  onFault: (fault: DiskFault) => void = () => {};
  /**
   * Called right before a record is written (the host writes the trace of the steps it covers
   * first). A `DiskFault` it throws fails the flush, and nothing is written.
   */
  beforeWrite: () => void = () => {};

  /** Every record's text up to its `durable` or `delta` field (a StoredState). */
  private readonly head: string;

  constructor(private readonly dir: string, private readonly primitive: string, private readonly node: number, private readonly io: DiskIo = nodeDisk, options: StoreOptions = {}) {
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.head = `{"primitive":${JSON.stringify(primitive)},"node":${JSON.stringify(node)},`;
  }

  /** The segment being appended to (after `load`). */
  get file(): string {
    return this.segment?.file ?? join(this.dir, segmentName(1));
  }

  /**
   * The stored durable context, or undefined on a first start. Cuts a torn tail, discards the
   * leftovers of an unfinished compaction, and opens the log for appending. Throws a
   * `DiskFault` when the folder cannot be written, a `CorruptStateError` when the log cannot be trusted.
   */
  load(): object | undefined {
    const io = this.io;
    diskCall('create folder', this.dir, () => {
      try {
        mkdirSync(this.dir, { recursive: true });
      } catch {
        // A recursive mkdir says ENOENT on a read-only file system; a plain one names the cause.
        mkdirSync(this.dir);
      }
    });
    let stored: StoredState | undefined;
    let fields: Fields | null = null;
    let from = '';
    const segments = segmentsIn(this.dir);
    for (const [i, { n, file }] of segments.entries()) {
      const data = diskCall('read', file, () => readFileSync(file));
      const scan = scanLog(data);
      if (scan.tail === 'corrupt') throw new CorruptStateError(`write-ahead log ${file} is corrupt at byte ${scan.end}: a bad record with good ones after it`);
      if (!scan.records.length && i < segments.length - 1) {
        // A compaction that died before its first record was on disk: the older segment stands.
        diskCall('unlink', file, () => io.unlinkSync(file));
        continue;
      }
      from = `write-ahead log ${file}`;
      const state = replay(scan.records, from);
      // Appending: every write lands at the end, which the cut below makes the last good record's.
      const fd = diskCall('open', file, () => io.openSync(file, 'a'));
      this.segment = { n, file, fd, size: scan.end, records: scan.records.length };
      if (scan.end < data.length) {
        diskCall('truncate', file, () => io.ftruncateSync(fd, scan.end));
        diskCall('fsync', file, () => io.fsyncSync(fd));
        this.torn = { file, bytes: data.length - scan.end };
      }
      if (state) ({ stored, fields } = state);
      // Older segments are what a finished compaction had yet to delete.
      for (const older of segments.slice(i + 1)) diskCall('unlink', older.file, () => io.unlinkSync(older.file));
      break;
    }
    if (!stored) {
      const legacy = join(this.dir, 'state.json');
      from = `state file ${legacy}`;
      if (existsSync(legacy)) stored = parseStored(diskCall('read', legacy, () => readFileSync(legacy, 'utf8')), from);
      if (stored) fields = fieldsOf(stored.durable);
    }
    if (stored && (stored.primitive !== this.primitive || stored.node !== this.node)) {
      if (this.segment) closeQuietly(io, this.segment.fd);
      this.segment = null;
      throw new CorruptStateError(`${from} belongs to ${stored.primitive} node ${stored.node}, not ${this.primitive} node ${this.node}`);
    }
    if (!this.segment) {
      const file = join(this.dir, segmentName(1));
      const fd = diskCall('open', file, () => io.openSync(file, 'w'));
      this.segment = { n: 1, file, fd, size: 0, records: 0 };
      this.syncFolder();
    }
    if (!stored) return undefined;
    this.saved = this.written = fields;
    return stored.durable;
  }

  private syncFolder(): void {
    const fd = diskCall('open', this.dir, () => this.io.openSync(this.dir, 'r'));
    try {
      diskCall('fsync', this.dir, () => this.io.fsyncSync(fd));
    } finally {
      closeQuietly(this.io, fd);
    }
  }

  /**
   * Queues `durable` for the next flush if it differs from the newest saved state. Returns the
   * ticket that covers it (and every state saved before it): once `durable` reaches it, the
   * state is on disk.
   */
  save(durable: object, when: 'now' | 'lazily' = 'now', textOf?: (value: unknown) => string | undefined): number {
    // The record's own text is the comparison: a state written with its keys in another order
    // only costs a record, never skips one. `textOf` gives the texts of fields serialized already.
    const fields = fieldsOf(durable, textOf);
    if ((this.saved && sameFields(fields, this.saved)) || this.failed || this.closing) return this.submitted;
    this.saved = fields;
    this.pending = fields;
    this.submitted++;
    if (when === 'now') this.kick();
    else this.kickLater();
    return this.submitted;
  }

  /** Starts the flush that covers `ticket` unless it is on disk or under way. */
  need(ticket: number): void {
    if (ticket > this.durable) this.kick();
  }

  private later: ReturnType<typeof setTimeout> | null = null;

  /** Flushes a lazily saved state within IDLE_FLUSH_MS, unless a state someone waits for carries it sooner. */
  private kickLater(): void {
    if (this.later) return;
    this.later = setTimeout(() => {
      this.later = null;
      this.kick();
    }, IDLE_FLUSH_MS);
    this.later.unref?.();
  }

  /**
   * Starts a flush of the newest saved state unless FLUSHES_IN_FLIGHT are under way (each one
   * starts the next when it ends). A flush's fdatasync covers every record appended before it, so
   * a state saved while one flush is syncing need not wait for it to end: it starts its own at
   * once, and whichever ends first makes everything written before its own call durable. A
   * compaction waits until no flush is under way and runs alone.
   */
  private kick(): void {
    if (!this.pending || this.failed || !this.segment || this.compacting || this.running.size >= FLUSHES_IN_FLIGHT) return;
    const state = this.pending;
    const segment = this.segment;
    const whole = () => encodeRecord(Buffer.from(`${this.head}"durable":${wholeText(state)}}`));
    // After the segment's first record, what changed since the record before (unless the keys did).
    const delta = segment.records > 0 && this.written ? deltaText(this.written, state) : null;
    let record = delta === null ? whole() : encodeRecord(Buffer.from(`${this.head}"delta":${delta}}`));
    const compact = segment.size > 0 && (segment.size + record.length > this.segmentBytes || segment.records >= RECORDS_PER_SEGMENT);
    if (compact && this.running.size) return;
    if (compact && delta !== null) record = whole();
    const ticket = this.submitted;
    this.pending = null;
    this.written = state;
    if (this.later) clearTimeout(this.later);
    this.later = null;
    this.flushes++;
    this.compacting = compact;
    const flush = (compact ? this.compact(record) : this.append(segment, record)).then(
      () => {
        this.running.delete(flush);
        this.compacting = false;
        if (this.failed) return;
        this.durable = Math.max(this.durable, ticket);
        this.writes++;
        this.onDurable(this.durable);
        this.kick();
      },
      (err) => {
        this.running.delete(flush);
        this.compacting = false;
        if (this.failed) return;
        this.failed = DiskFault.of('write', this.file, err);
        this.onFault(this.failed);
      },
    );
    this.running.add(flush);
  }

  /** Appends one record to the segment and makes it durable. */
  private async append(segment: Segment, record: Buffer): Promise<void> {
    this.beforeWrite();
    writeAll(this.io, segment.fd, segment.file, record);
    // Counted at once: the next flush may start (and must see the size) before this one syncs.
    segment.size += record.length;
    segment.records++;
    await diskCallAsync('fdatasync', segment.file, () => this.io.fdatasync(segment.fd));
  }

  /** Starts the next segment with the newest state, then drops the old one. */
  private async compact(record: Buffer): Promise<void> {
    const old = this.segment!;
    const n = old.n + 1;
    const file = join(this.dir, segmentName(n));
    this.beforeWrite();
    const fd = await diskCallAsync('open', file, () => this.io.open(file, 'w'));
    try {
      writeAll(this.io, fd, file, record);
      await diskCallAsync('fdatasync', file, () => this.io.fdatasync(fd));
      const dirFd = await diskCallAsync('open', this.dir, () => this.io.open(this.dir, 'r'));
      try {
        await diskCallAsync('fsync', this.dir, () => this.io.fsync(dirFd));
      } finally {
        closeQuietly(this.io, dirFd);
      }
    } catch (err) {
      closeQuietly(this.io, fd);
      throw err;
    }
    this.segment = { n, file, fd, size: record.length, records: 1 };
    this.compactions++;
    closeQuietly(this.io, old.fd);
    try {
      this.io.unlinkSync(old.file);
    } catch {
      // Harmless: the next start keeps the newer segment, which holds a record, and deletes this one.
    }
  }

  /** Takes no more saves, writes what was saved (unless a flush failed), then closes the log. */
  async close(): Promise<void> {
    this.closing = true;
    this.kick();
    while (this.running.size) await Promise.all(this.running);
    if (this.segment) closeQuietly(this.io, this.segment.fd);
    this.segment = null;
  }
}
