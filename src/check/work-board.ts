/**
 * Work sharing between the threads of a parallel depth-first search, in shared memory. A busy
 * thread that sees an idle one posts a job: the choice path to a world on its stack and the
 * choices it had left there, which it then drops. An idle thread takes a job, replays the path
 * and searches on. The search is over when every thread is idle and no job is posted.
 *
 * A thread counts itself busy again before it tries to take a job, so "all idle and the board
 * empty" can only be seen once no thread holds or is taking work.
 */
const IDLE = 0;
const SIGNAL = 1;
const HEADER = 2;
/** Slot states. */
const EMPTY = 0;
const WRITING = 1;
const READY = 2;
const TAKING = 3;

export interface Job {
  path: number[];
  choices: number[];
}

export class WorkBoard {
  private readonly cells: Int32Array;

  /** `slots` jobs of up to `slotInts` numbers each. */
  static allocate(slots: number, slotInts = 1024): SharedArrayBuffer {
    return new SharedArrayBuffer((HEADER + slots * (slotInts + 3)) * 4 + 8);
  }

  constructor(buffer: SharedArrayBuffer, private readonly threads: number, private readonly slotInts = 1024) {
    this.cells = new Int32Array(buffer);
  }

  private get slots(): number {
    return Math.floor((this.cells.length - HEADER - 2) / (this.slotInts + 3));
  }

  private base(slot: number): number {
    return HEADER + slot * (this.slotInts + 3);
  }

  /** True when some thread is waiting for work. */
  get wanted(): boolean {
    return Atomics.load(this.cells, IDLE) > 0;
  }

  /** Posts a job; false when the board is full or the job too long for a slot. */
  give(job: Job): boolean {
    if (job.path.length + job.choices.length > this.slotInts) return false;
    for (let s = 0; s < this.slots; s++) {
      const at = this.base(s);
      if (Atomics.compareExchange(this.cells, at, EMPTY, WRITING) !== EMPTY) continue;
      this.cells[at + 1] = job.path.length;
      this.cells[at + 2] = job.choices.length;
      this.cells.set(job.path, at + 3);
      this.cells.set(job.choices, at + 3 + job.path.length);
      Atomics.store(this.cells, at, READY);
      Atomics.add(this.cells, SIGNAL, 1);
      Atomics.notify(this.cells, SIGNAL);
      return true;
    }
    return false;
  }

  /**
   * Waits for a job; undefined once every thread is idle with the board empty, or when
   * `stopped()` says so.
   */
  take(stopped: () => boolean): Job | undefined {
    Atomics.add(this.cells, IDLE, 1);
    for (;;) {
      const signal = Atomics.load(this.cells, SIGNAL);
      Atomics.sub(this.cells, IDLE, 1);
      const job = this.claim();
      if (job) return job;
      Atomics.add(this.cells, IDLE, 1);
      if (stopped() || (Atomics.load(this.cells, IDLE) === this.threads && this.empty())) {
        Atomics.notify(this.cells, SIGNAL);
        return undefined;
      }
      Atomics.wait(this.cells, SIGNAL, signal, 20);
    }
  }

  private claim(): Job | undefined {
    for (let s = 0; s < this.slots; s++) {
      const at = this.base(s);
      if (Atomics.compareExchange(this.cells, at, READY, TAKING) !== READY) continue;
      const pathLength = this.cells[at + 1];
      const choices = this.cells[at + 2];
      const job = {
        path: Array.from(this.cells.subarray(at + 3, at + 3 + pathLength)),
        choices: Array.from(this.cells.subarray(at + 3 + pathLength, at + 3 + pathLength + choices)),
      };
      Atomics.store(this.cells, at, EMPTY);
      return job;
    }
    return undefined;
  }

  private empty(): boolean {
    for (let s = 0; s < this.slots; s++) if (Atomics.load(this.cells, this.base(s)) !== EMPTY) return false;
    return true;
  }
}
