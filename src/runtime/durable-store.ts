/**
 * The durable part of a node's context on disk. Written atomically: a temporary file is written
 * and fsynced, renamed over the old one, and the folder is fsynced so the rename itself survives
 * a power cut. A restarted node resumes from it; a file that cannot be read or does not belong
 * to this node is a startup error, never a silent reset (a reset node could vote twice in a term).
 *
 * The state file cannot tear: it is only ever replaced by a rename of a complete, fsynced file,
 * so a crash or a failed write leaves either the old file or the new one. A crash mid-save leaves
 * at most a stray `state.json.tmp`, which is never read and is overwritten by the next save. A
 * failed write (full disk, read-only folder, I/O error) throws a `DiskFault` and leaves the
 * previous state in place; the host then stops (see disk-io.ts).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonical } from '../canonical.js';
import { closeQuietly, diskCall, nodeDisk, writeAll, type DiskIo } from './disk-io.js';

/** What the state file holds. */
export interface StoredState {
  primitive: string;
  node: number;
  durable: object;
}

/** A state file that is unreadable, corrupt or another node's. */
export class CorruptStateError extends Error {}

export class DurableStore {
  readonly file: string;
  private last: string | null = null;
  /** Atomic writes done, for tests and metrics. */
  writes = 0;

  constructor(private readonly dir: string, private readonly primitive: string, private readonly node: number, private readonly io: DiskIo = nodeDisk) {
    this.file = join(dir, 'state.json');
  }

  /** The stored durable context, or undefined on a first start. */
  load(): object | undefined {
    diskCall('create folder', this.dir, () => {
      try {
        mkdirSync(this.dir, { recursive: true });
      } catch {
        // A recursive mkdir says ENOENT on a read-only file system; a plain one names the cause.
        mkdirSync(this.dir);
      }
    });
    if (!existsSync(this.file)) return undefined;
    const text = diskCall('read', this.file, () => readFileSync(this.file, 'utf8'));
    let parsed: StoredState;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new CorruptStateError(`state file ${this.file} is corrupt: ${(err as Error).message.split('\n')[0]}`);
    }
    if (!parsed || typeof parsed !== 'object' || typeof parsed.durable !== 'object' || parsed.durable === null || Array.isArray(parsed.durable)) {
      throw new CorruptStateError(`state file ${this.file} is corrupt: no durable object`);
    }
    if (parsed.primitive !== this.primitive || parsed.node !== this.node) {
      throw new CorruptStateError(`state file ${this.file} belongs to ${parsed.primitive} node ${parsed.node}, not ${this.primitive} node ${this.node}`);
    }
    this.last = canonical(parsed.durable);
    return parsed.durable;
  }

  /**
   * Writes `durable` if it differs from what is stored; returns whether it wrote. Throws a
   * `DiskFault` when any call fails; what was stored before is then still stored, except after
   * a failed fsync of the folder, where the new file may or may not survive a power cut.
   */
  save(durable: object): boolean {
    const key = canonical(durable);
    if (key === this.last) return false;
    const io = this.io;
    const tmp = this.file + '.tmp';
    const stored: StoredState = { primitive: this.primitive, node: this.node, durable };
    const fd = diskCall('open', tmp, () => io.openSync(tmp, 'w'));
    try {
      writeAll(io, fd, tmp, JSON.stringify(stored) + '\n');
      diskCall('fsync', tmp, () => io.fsyncSync(fd));
    } finally {
      closeQuietly(io, fd);
    }
    diskCall('rename', `${tmp} to ${this.file}`, () => io.renameSync(tmp, this.file));
    const dirFd = diskCall('open', this.dir, () => io.openSync(this.dir, 'r'));
    try {
      diskCall('fsync', this.dir, () => io.fsyncSync(dirFd));
    } finally {
      closeQuietly(io, dirFd);
    }
    this.last = key;
    this.writes++;
    return true;
  }
}
