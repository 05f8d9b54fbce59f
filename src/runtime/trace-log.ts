/**
 * The NDJSON trace of a real run. Each node appends one record per processed event (its start,
 * a peer message, a timer, a client request) with the state before and after, the context after
 * (as what changed since the record before: trace-context.ts), and every effect the host executed; `coordkit cluster` appends the faults it injected. Records
 * are written with a synchronous write so a kill -9 loses none that a peer may have seen the
 * effects of. A node gathers the records of its steps (`buffer`) and writes them with one call
 * (`flush`) before the state of any of them is written to its log, before any of their effects
 * leaves the process, and at the end of the event-loop turn at the latest: a kill -9 then loses
 * only steps that nothing outside the process saw, as if it had come before them.
 *
 * A write that fails part-way (a full disk) can leave a torn last line; the node stops there
 * (fail-stop, see disk-io.ts) and truncates the torn line at its next start. The step it
 * described was never persisted and none of its effects left, so it did not happen.
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { causalMerge } from './causal-merge.js';
import { applyContextDelta, ContextEncoder, type ContextDelta } from './trace-context.js';
import { closeQuietly, diskCall, DiskFault, nodeDisk, writeAll, type DiskIo } from './disk-io.js';

/**
 * A message as the host handled it: handed to the link (it may still be lost with the
 * connection), or `lost` with the reason it never reached the link.
 */
export interface TracedSend {
  to: number;
  msg: { type: string; [field: string]: unknown };
  lost?: 'partition' | 'overflow' | 'unknown node';
}

/** One event a node processed. */
export interface NodeRecord {
  node: number;
  /** Per node, from 0, across restarts. */
  seq: number;
  /** Wall clock, ms since the epoch (fractional), the same in every process (trace-clock.ts). */
  time: number;
  kind: 'init' | 'peer' | 'timer' | 'client';
  /** The event fed to the machine (absent for init); a peer event carries `from`. */
  event?: { type: string; [field: string]: unknown };
  /** The timer's id, for timer events. */
  timer?: string;
  /** For init: the durable context the node restarted from (null on a first start). */
  restored?: object | null;
  before?: string;
  after: string;
  context: unknown;
  sends: TracedSend[];
  notes: { type: string; [field: string]: unknown }[];
  timers: { id: string; event: { type: string }; delayMs: number; firesInMs: number }[];
  cancels: string[];
}

/** A fault or client operation the cluster launcher performed. */
export interface ClusterRecord {
  node: 0;
  time: number;
  kind: 'fault';
  op: 'start' | 'kill' | 'restart' | 'partition' | 'heal' | 'client' | 'stop';
  target?: number;
  sides?: number[][];
  request?: unknown;
}

export type TraceRecord = NodeRecord | ClusterRecord;

export class TraceWriter {
  private readonly fd: number;
  /** Lines `buffer` gathered that `flush` has not written yet. */
  private pending = '';
  private failed: DiskFault | null = null;
  /** A node record's context is written as what changed since the record before it (trace-context.ts). */
  private readonly contexts: ContextEncoder;

  /**
   * Throws a `DiskFault` when the file cannot be opened for appending. `frozen`: every context
   * it is given is frozen (freezeNew, as the host does), which lets it compare fields by reference.
   */
  constructor(readonly file: string, private readonly io: DiskIo = nodeDisk, options: { frozen?: boolean } = {}) {
    this.fd = diskCall('open', file, () => io.openSync(file, 'a'));
    this.contexts = new ContextEncoder(options.frozen);
  }

  /** Writes what was buffered, then the record. Throws a `DiskFault` when the write fails, possibly leaving part of the line written. */
  append(record: TraceRecord): void {
    this.buffer(record);
    this.flush();
  }

  /** Keeps the record for the next `flush`, after those kept before it. */
  buffer(record: TraceRecord): void {
    if (record.kind === 'fault') {
      this.pending += JSON.stringify(record) + '\n';
      return;
    }
    // A start is written whole, and so is the first record this writer writes.
    const { context, ...rest } = record;
    this.pending += JSON.stringify({ ...rest, ...this.contexts.encode(context, record.kind === 'init') }) + '\n';
  }

  /** The JSON text of a field of the context buffered last, as `buffer` computed it (ContextEncoder.textOf). */
  textOf(value: unknown): string | undefined {
    return this.contexts.textOf(value);
  }

  /** Whether records wait for `flush`. */
  get buffered(): boolean {
    return this.pending !== '';
  }

  /**
   * Writes the buffered records with one call. Throws a `DiskFault` when it fails, and that same
   * fault on every later call: after a failed write nothing more is written.
   */
  flush(): void {
    if (this.failed) throw this.failed;
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    try {
      writeAll(this.io, this.fd, this.file, text);
    } catch (err) {
      this.failed = DiskFault.of('write', this.file, err);
      throw this.failed;
    }
  }

  close(): void {
    closeQuietly(this.io, this.fd);
  }
}

/** What `truncateTornTail` cut off: the torn line's number and its length. */
export interface TornTail {
  line: number;
  bytes: number;
}

/**
 * Cuts a trace back to its last complete line (every record ends with a newline, so anything
 * after the last one is a record whose write did not finish). Returns what it cut, or null.
 */
export function truncateTornTail(file: string, io: DiskIo = nodeDisk): TornTail | null {
  if (!existsSync(file)) return null;
  // A trace grows for the node's whole life: look at its last byte, and read it all only when torn.
  if (diskCall('read', file, () => endsWhole(file))) return null;
  const data = diskCall('read', file, () => readFileSync(file));
  const end = data.lastIndexOf(0x0a) + 1;
  if (end === data.length) return null;
  let line = 1;
  for (let i = 0; i < end; i++) if (data[i] === 0x0a) line++;
  const fd = diskCall('open', file, () => io.openSync(file, 'r+'));
  try {
    diskCall('truncate', file, () => io.ftruncateSync(fd, end));
    diskCall('fsync', file, () => io.fsyncSync(fd));
  } finally {
    closeQuietly(io, fd);
  }
  return { line, bytes: data.length - end };
}

/** The last `bytes` bytes of a file (fewer when it is shorter) and the file's size. */
function tail(file: string, bytes: number): { data: Buffer; size: number } {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(bytes, size);
    const data = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, data, done, length - done, size - length + done);
      if (n <= 0) break;
      done += n;
    }
    return { data: data.subarray(0, done), size };
  } finally {
    closeSync(fd);
  }
}

/** Whether a file is empty or ends with a newline. */
const endsWhole = (file: string): boolean => {
  const { data } = tail(file, 1);
  return data.length === 0 || data[0] === 0x0a;
};

/**
 * The `seq` the next record of a node's trace takes: one past its last record's (records are
 * numbered from 0 with none skipped, so it is also how many there are), read from the end of the
 * file, not the whole trace. Call it after `truncateTornTail`. A last line that is no node record
 * is an error, as `readTrace` would say.
 */
export function nextSeq(file: string): number {
  if (!existsSync(file)) return 0;
  for (let bytes = 1 << 16; ; bytes *= 4) {
    const { data, size } = tail(file, bytes);
    const end = data.length > 0 && data[data.length - 1] === 0x0a ? data.length - 1 : data.length;
    if (end === 0) return 0;
    const start = data.lastIndexOf(0x0a, end - 1) + 1;
    if (start === 0 && data.length < size) continue;
    const line = data.subarray(start, end).toString('utf8');
    if (line.trim() === '') return 0;
    let record: { seq?: unknown };
    try {
      record = JSON.parse(line);
    } catch {
      throw new Error(`${file}: last line is not a trace record`);
    }
    if (typeof record.seq !== 'number' || !Number.isSafeInteger(record.seq) || record.seq < 0) throw new Error(`${file}: last line has no record number`);
    return record.seq + 1;
  }
}

/**
 * Reads a trace, every node record with its whole context (one written as a delta gets it back
 * from the node's record before it); a torn last line (the writer was killed mid-write) is
 * ignored, any other bad line is an error.
 */
export function readTrace(file: string): TraceRecord[] {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n');
  const out: TraceRecord[] = [];
  const contexts = new Map<number, unknown>();
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let record: TraceRecord & { contextDelta?: ContextDelta };
    try {
      record = JSON.parse(line);
    } catch {
      if (i !== lines.length - 1) throw new Error(`${file}:${i + 1}: not a trace record`);
      return;
    }
    if (record && typeof record === 'object' && record.kind !== 'fault') {
      if (record.contextDelta !== undefined) {
        try {
          record.context = applyContextDelta(contexts.get(record.node), record.contextDelta);
        } catch (err) {
          throw new Error(`${file}:${i + 1}: ${(err as Error).message}`);
        }
        delete record.contextDelta;
      }
      contexts.set(record.node, record.context);
    }
    out.push(record);
  });
  return out;
}

/**
 * Records of many files in one order the run could have had: time order wherever happened-before
 * allows it (a receipt after its send, a node's records in sequence; see causal-merge.ts), ties:
 * launcher first, then node id, then per-node sequence.
 */
export function mergeTraces(traces: TraceRecord[][]): TraceRecord[] {
  return causalMerge(traces);
}
