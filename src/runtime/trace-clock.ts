/**
 * The time trace records are stamped with: ms since the epoch, fractional, on one clock shared by
 * every process of the machine. Records of different nodes (and the launcher) are merged by it
 * for diagrams and replays, so a process whose stamps run ahead draws receipts before their sends
 * (the channel check counts sends and receipts and does not depend on the order).
 *
 * `performance.timeOrigin + performance.now()` is such a clock only on an idle machine: Node
 * reads the wall clock and the monotonic clock separately at start-up, and a process descheduled
 * between the two reads keeps an origin ahead of the wall clock by as long as it waited (tens to
 * hundreds of ms on a loaded machine) for its whole life. Here the monotonic clock, which all
 * processes share, is anchored to the wall clock at a tick of `Date.now()` that tight monotonic
 * reads bracket; a bracket widened by a deschedule is measured again.
 */

/** A bracket this narrow anchors the clocks closely enough: sends and receipts are further apart. */
const TIGHT_MS = 0.05;
/** How long the anchoring may take at most before it keeps the narrowest bracket it saw. */
const BUDGET_MS = 50;

export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/**
 * Wall minus monotonic time: the value at which `wall()` ticks over, placed halfway between the
 * monotonic reads around the last read before the tick and the first read after it.
 */
export function epochOffset(wall: () => number = Date.now, mono: () => number = monotonicMs, budgetMs = BUDGET_MS): number {
  let best = { width: Infinity, offset: wall() - mono() };
  let beforeLast = mono();
  let last = wall();
  let afterLast = mono();
  const end = afterLast + budgetMs;
  for (;;) {
    const now = wall();
    const after = mono();
    if (now !== last) {
      // the wall clock reached `now` after the previous read began and before this one ended
      const width = after - beforeLast;
      if (width < best.width) best = { width, offset: now - (beforeLast + after) / 2 };
      if (width <= TIGHT_MS) break;
    }
    if (after > end) break;
    beforeLast = afterLast;
    last = now;
    afterLast = after;
  }
  return best.offset;
}

let offset: number | undefined;

/** Now, in ms since the epoch, comparable across the processes of this machine. */
export function traceNow(): number {
  offset ??= epochOffset();
  return monotonicMs() + offset;
}
