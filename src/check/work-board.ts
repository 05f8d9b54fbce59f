/**
 * Work sharing between the threads of a parallel depth-first search, in shared memory. A busy
 * thread that sees an idle one posts a job: the choice path to a world on its stack and the
 * choices it had left there, which it then drops. An idle thread takes a job, replays the path
 * and searches on.
 *
 * The end is counted, not guessed: `unfinished` is the number of busy threads plus the jobs
 * posted and not yet taken. Only a busy thread posts, and it counts the job before publishing
 * it; taking a job moves its unit to the taker; a thread gives its own unit back when its work
 * is done (`finished`). So `unfinished` reaching 0 means no thread holds work and none is
 * posted, and no work can appear again: the thread that brings it to 0 says so to all. (Reading
 * "every thread idle" and "the board empty" one after the other cannot say that: a job can be
 * taken, searched and re-posted between the two reads.)
 */
const IDLE = 0;
const SIGNAL = 1;
const UNFINISHED = 2;
const DONE = 3;
const HEADER = 4;
/** Slot states. */
const EMPTY = 0;
const WRITING = 1;
const READY = 2;
const TAKING = 3;

export interface Job {
  path: number[];
  choices: number[];
}

/** The steps of the protocol a test may slow down, to shake out orderings (see `pause`). */
export type BoardStep = 'give' | 'publish' | 'claim' | 'wait' | 'finish';

export class WorkBoard {
  private readonly cells: Int32Array;

  /**
   * `slots` jobs of up to `slotInts` numbers each. The search starts as one unit of unfinished
   * work, held by the thread that searches from the initial world.
   */
  static allocate(slots: number, slotInts = 1024): SharedArrayBuffer {
    const buffer = new SharedArrayBuffer((HEADER + slots * (slotInts + 3)) * 4);
    new Int32Array(buffer)[UNFINISHED] = 1;
    return buffer;
  }

  /** `pause`, when given, is called at each step of the protocol (a test hook injecting delays). */
  constructor(
    buffer: SharedArrayBuffer,
    private readonly slotInts = 1024,
    private readonly pause?: (step: BoardStep) => void,
  ) {
    this.cells = new Int32Array(buffer);
  }

  private get slots(): number {
    return Math.floor((this.cells.length - HEADER) / (this.slotInts + 3));
  }

  private base(slot: number): number {
    return HEADER + slot * (this.slotInts + 3);
  }

  /** True when some thread is waiting for work. */
  get wanted(): boolean {
    return Atomics.load(this.cells, IDLE) > 0;
  }

  /** True once every piece of work is done. */
  get done(): boolean {
    return Atomics.load(this.cells, DONE) !== 0;
  }

  /** Posts a job (only a thread holding work may); false when the board is full or the job too long for a slot. */
  give(job: Job): boolean {
    if (job.path.length + job.choices.length > this.slotInts) return false;
    for (let s = 0; s < this.slots; s++) {
      const at = this.base(s);
      if (Atomics.compareExchange(this.cells, at, EMPTY, WRITING) !== EMPTY) continue;
      this.pause?.('give');
      Atomics.add(this.cells, UNFINISHED, 1);
      this.cells[at + 1] = job.path.length;
      this.cells[at + 2] = job.choices.length;
      this.cells.set(job.path, at + 3);
      this.cells.set(job.choices, at + 3 + job.path.length);
      this.pause?.('publish');
      Atomics.store(this.cells, at, READY);
      this.signal();
      return true;
    }
    return false;
  }

  /** The calling thread's work is done (whether it started from a job or from the initial world). */
  finished(): void {
    this.pause?.('finish');
    if (Atomics.sub(this.cells, UNFINISHED, 1) === 1) {
      Atomics.store(this.cells, DONE, 1);
      this.signal();
    }
  }

  /** Waits for a job; undefined once all work is done, or when `stopped()` says so. */
  take(stopped: () => boolean): Job | undefined {
    Atomics.add(this.cells, IDLE, 1);
    try {
      for (;;) {
        const signal = Atomics.load(this.cells, SIGNAL);
        const job = this.claim();
        if (job) return job;
        if (this.done || stopped()) return undefined;
        this.pause?.('wait');
        Atomics.wait(this.cells, SIGNAL, signal, 20);
      }
    } finally {
      Atomics.sub(this.cells, IDLE, 1);
    }
  }

  /** The board's state in words, for an error that must say where threads stopped. */
  describe(): string {
    let posted = 0;
    for (let s = 0; s < this.slots; s++) if (Atomics.load(this.cells, this.base(s)) !== EMPTY) posted++;
    const unfinished = Atomics.load(this.cells, UNFINISHED);
    return `${Atomics.load(this.cells, IDLE)} thread(s) waiting for work, ${posted} job(s) posted, ${unfinished} unit(s) of work unfinished${this.done ? ', done' : ''}`;
  }

  private signal(): void {
    Atomics.add(this.cells, SIGNAL, 1);
    Atomics.notify(this.cells, SIGNAL);
  }

  private claim(): Job | undefined {
    for (let s = 0; s < this.slots; s++) {
      const at = this.base(s);
      if (Atomics.compareExchange(this.cells, at, READY, TAKING) !== READY) continue;
      this.pause?.('claim');
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
}
