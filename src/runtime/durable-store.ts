/**
 * The durable part of a node's context on disk. Written atomically: a temporary file is written
 * and fsynced, renamed over the old one, and the folder is fsynced so the rename itself survives
 * a power cut. A restarted node resumes from it; a file that cannot be read or does not belong
 * to this node is a startup error, never a silent reset (a reset node could vote twice in a term).
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { canonical } from '../canonical.js';

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

  constructor(private readonly dir: string, private readonly primitive: string, private readonly node: number) {
    this.file = join(dir, 'state.json');
  }

  /** The stored durable context, or undefined on a first start. */
  load(): object | undefined {
    mkdirSync(this.dir, { recursive: true });
    if (!existsSync(this.file)) return undefined;
    let parsed: StoredState;
    try {
      parsed = JSON.parse(readFileSync(this.file, 'utf8'));
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

  /** Writes `durable` if it differs from what is stored; returns whether it wrote. */
  save(durable: object): boolean {
    const key = canonical(durable);
    if (key === this.last) return false;
    const tmp = this.file + '.tmp';
    const stored: StoredState = { primitive: this.primitive, node: this.node, durable };
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify(stored) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
    const dirFd = openSync(this.dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
    this.last = key;
    this.writes++;
    return true;
  }
}
