/**
 * A disk that fails on cue: the real file-system calls, except that the Nth call of one kind on
 * a matching file throws the errno error Node itself would throw (a full disk, a read-only
 * folder, an I/O error). A failing write may first write part of what it was given, as a write
 * to a nearly full disk does. The log's asynchronous calls count with the synchronous ones of
 * their kind (`fsync` for fsync and fdatasync, `open`).
 */
import { nodeDisk, type DiskIo } from '../src/runtime/disk-io.js';

export interface DiskFaultPlan {
  op: 'open' | 'write' | 'fsync' | 'rename';
  /** Only calls on files whose path contains this. */
  file: string;
  /** 1 = the first matching call fails. */
  nth: number;
  code: 'ENOSPC' | 'EACCES' | 'EIO' | 'EROFS';
  /** For writes: bytes written before the failure (a torn record). */
  partialBytes?: number;
}

const messages = { ENOSPC: 'no space left on device', EACCES: 'permission denied', EIO: 'i/o error', EROFS: 'read-only file system' };
const errnos = { ENOSPC: -28, EACCES: -13, EIO: -5, EROFS: -30 };

export class FaultyDisk implements DiskIo {
  /** Matching calls so far; whether the fault was injected. */
  calls = 0;
  fired = false;
  private readonly paths = new Map<number, string>();

  constructor(private readonly plan: DiskFaultPlan) {}

  private hit(op: DiskFaultPlan['op'], path: string | undefined): boolean {
    if (this.fired || op !== this.plan.op || !path?.includes(this.plan.file)) return false;
    this.calls++;
    return this.calls === this.plan.nth;
  }

  private fail(syscall: string): never {
    this.fired = true;
    const { code } = this.plan;
    throw Object.assign(new Error(`${code}: ${messages[code]}, ${syscall}`), { code, errno: errnos[code], syscall });
  }

  openSync(path: string, flags: string): number {
    if (this.hit('open', path)) this.fail('open');
    const fd = nodeDisk.openSync(path, flags);
    this.paths.set(fd, path);
    return fd;
  }

  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number {
    if (this.hit('write', this.paths.get(fd))) {
      const partial = Math.min(this.plan.partialBytes ?? 0, length);
      if (partial > 0) nodeDisk.writeSync(fd, buffer, offset, partial);
      this.fail('write');
    }
    return nodeDisk.writeSync(fd, buffer, offset, length);
  }

  fsyncSync(fd: number): void {
    if (this.hit('fsync', this.paths.get(fd))) this.fail('fsync');
    nodeDisk.fsyncSync(fd);
  }

  closeSync(fd: number): void {
    this.paths.delete(fd);
    nodeDisk.closeSync(fd);
  }

  renameSync(from: string, to: string): void {
    if (this.hit('rename', from)) this.fail('rename');
    nodeDisk.renameSync(from, to);
  }

  ftruncateSync(fd: number, length: number): void {
    nodeDisk.ftruncateSync(fd, length);
  }

  unlinkSync(path: string): void {
    nodeDisk.unlinkSync(path);
  }

  async open(path: string, flags: string): Promise<number> {
    if (this.hit('open', path)) this.fail('open');
    const fd = await nodeDisk.open(path, flags);
    this.paths.set(fd, path);
    return fd;
  }

  async fdatasync(fd: number): Promise<void> {
    if (this.hit('fsync', this.paths.get(fd))) this.fail('fdatasync');
    return nodeDisk.fdatasync(fd);
  }

  async fsync(fd: number): Promise<void> {
    if (this.hit('fsync', this.paths.get(fd))) this.fail('fsync');
    return nodeDisk.fsync(fd);
  }
}
