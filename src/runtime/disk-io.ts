/**
 * The file-system calls a node makes to keep its state and its trace, as one replaceable object,
 * so a test can make exactly the Nth write fail the way a full, read-only or broken disk does.
 *
 * Storage is fail-stop. A failed durable write (ENOSPC, EACCES, EROFS, EIO, ...) becomes a
 * `DiskFault`, and the node stops before anything that depends on the step leaves: no message,
 * no reply, no timer. Retrying is not safe: after a failed fsync the kernel may already have
 * dropped the dirty pages and report success next time (PostgreSQL's "fsyncgate"), so the only
 * state a node may trust is the one it reads back at its next start.
 *
 * The write-ahead log's fdatasync (and a compaction's open and fsync) are the asynchronous calls:
 * they run on libuv's thread pool, so timers and peer frames keep being handled while the disk
 * works. Its appends are synchronous writes into the page cache, which take microseconds; one
 * trip to the thread pool per flush instead of two is what a busy machine notices.
 */
import * as fs from 'node:fs';

export interface DiskIo {
  openSync(path: string, flags: string): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  ftruncateSync(fd: number, length: number): void;
  unlinkSync(path: string): void;
  open(path: string, flags: string): Promise<number>;
  fdatasync(fd: number): Promise<void>;
  fsync(fd: number): Promise<void>;
}

/** A callback call of node:fs as a promise (the fs/promises API wants FileHandles, not descriptors). */
const promised = <T>(call: (done: (err: NodeJS.ErrnoException | null, value?: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => call((err, value) => (err ? reject(err) : resolve(value as T))));

/** The real file system. */
export const nodeDisk: DiskIo = {
  openSync: (path, flags) => fs.openSync(path, flags),
  writeSync: (fd, buffer, offset, length) => fs.writeSync(fd, buffer, offset, length),
  fsyncSync: (fd) => fs.fsyncSync(fd),
  closeSync: (fd) => fs.closeSync(fd),
  renameSync: (from, to) => fs.renameSync(from, to),
  ftruncateSync: (fd, length) => fs.ftruncateSync(fd, length),
  unlinkSync: (path) => fs.unlinkSync(path),
  open: (path, flags) => promised((done) => fs.open(path, flags, done)),
  fdatasync: (fd) => promised((done) => fs.fdatasync(fd, done)),
  fsync: (fd) => promised((done) => fs.fsync(fd, done)),
};

/** A durable write (or the open, fsync or rename around it) that failed. */
export class DiskFault extends Error {
  constructor(
    /** What was being done: `open`, `write`, `fsync`, `rename`, ... */
    readonly op: string,
    readonly file: string,
    /** The errno name (`ENOSPC`), or `UNKNOWN`. */
    readonly code: string,
    detail: string,
  ) {
    super(`disk fault: ${op} ${file} failed: ${code}${detail ? ` (${detail})` : ''}`);
  }

  /** Wraps what a file-system call threw. */
  static of(op: string, file: string, err: unknown): DiskFault {
    if (err instanceof DiskFault) return err;
    const e = err as NodeJS.ErrnoException;
    const code = typeof e?.code === 'string' ? e.code : 'UNKNOWN';
    // Node's message reads "ENOSPC: no space left on device, write": keep the words in between.
    const message = String(e?.message ?? err);
    const detail = message.startsWith(`${code}: `) ? message.slice(code.length + 2).split(', ')[0] : message.split('\n')[0];
    return new DiskFault(op, file, code, detail);
  }
}

/** Runs one file-system call, turning whatever it throws into a DiskFault. */
export function diskCall<T>(op: string, file: string, call: () => T): T {
  try {
    return call();
  } catch (err) {
    throw DiskFault.of(op, file, err);
  }
}

/** Runs one asynchronous file-system call, turning whatever it rejects with into a DiskFault. */
export async function diskCallAsync<T>(op: string, file: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw DiskFault.of(op, file, err);
  }
}

/** Writes all of `text` (a write to a nearly full disk may write part of it and fail on the rest). */
export function writeAll(io: DiskIo, fd: number, file: string, text: string | Uint8Array): void {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  let done = 0;
  while (done < bytes.length) {
    const n = diskCall('write', file, () => io.writeSync(fd, bytes, done, bytes.length - done));
    if (n <= 0) throw new DiskFault('write', file, 'EIO', 'the write made no progress');
    done += n;
  }
}

/** Closes a descriptor on the way out of a failed call: the first failure is the one to report. */
export function closeQuietly(io: DiskIo, fd: number): void {
  try {
    io.closeSync(fd);
  } catch {
    // reported by the call that failed first, or harmless after a successful fsync
  }
}
