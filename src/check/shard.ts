/**
 * How one check is split into shards, so that n machines (a CI matrix) cover one model and
 * `coordkit merge` joins their results.
 *
 * - An exploration is split at a prefix depth d: every shard searches the worlds up to depth d
 *   breadth-first (the same worlds, in the same order, on every shard), and the worlds at depth
 *   d are dealt in contiguous blocks of that order; each shard then searches below its share
 *   only, with its own visited set. A world deeper than d has a shortest path through some world
 *   at depth d, and
 *   the shard owning that world reaches it: the worlds up to depth d are in every shard's
 *   visited set, but none of that path's later worlds is. So the shards together cover the
 *   space; a world reachable below several shards' shares is searched by each of them (the
 *   duplicate work `merge` reports). Blocks keep siblings together, and siblings often differ
 *   only by the order of two independent steps and meet again one step down: dealt round-robin
 *   instead, three shards of the 3-node mutex split at depth 3 searched 2.4 times the unsharded
 *   worlds, in blocks 1.4.
 * - A walk's runs are the runs of one fast-check seed, numbered from 0: shard i takes one
 *   contiguous block of them. A failing run's path names its number, so the unsharded command
 *   `--seed S --path P` replays it.
 */
export interface ShardSpec {
  /** 1-based. */
  index: number;
  count: number;
  /** The prefix depth; chosen by `splitsAt` when absent. */
  depth?: number;
}

/** Without a depth, the search splits at the first level with this many worlds per shard. */
export const PREFIXES_PER_SHARD = 8;

/** Parses `i/n` (1 <= i <= n); a string saying what is wrong when it is not one. */
export function parseShard(raw: string): ShardSpec | string {
  const m = /^(\d{1,6})\/(\d{1,6})$/.exec(raw);
  if (!m) return `--shard must be i/n (this shard's number, 1 to n, and the number of shards), got '${raw}'`;
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index < 1 || index > count) return `--shard i/n needs 1 <= i <= n, got '${raw}'`;
  return { index, count };
}

/** Whether the breadth-first level at `depth`, with `size` worlds, is where the shards part. */
export function splitsAt(spec: ShardSpec, depth: number, size: number): boolean {
  return spec.depth !== undefined ? depth === spec.depth : size >= PREFIXES_PER_SHARD * spec.count;
}

/** Whether the `k`-th of the split level's `size` worlds (0-based, in search order) is this shard's. */
export function owns(spec: ShardSpec, k: number, size: number): boolean {
  return Math.floor((k * spec.count) / size) === spec.index - 1;
}

/** The block of a walk's `runs` runs that shard `spec` takes. */
export function runBlock(spec: ShardSpec, runs: number): { first: number; count: number } {
  const first = Math.floor(((spec.index - 1) * runs) / spec.count);
  const end = Math.floor((spec.index * runs) / spec.count);
  return { first, count: end - first };
}

/** Seed of a sharded walk given none: every shard must walk the same runs. */
export const SHARD_SEED = 1;

/** What every shard searches above the split, and where the split is. */
export interface ShardPrefix {
  /** The depth where the shards part; null when the space (or a bound) ended first: every shard then searched all of it. */
  depth: number | null;
  /** Worlds up to and including the split depth: every shard searches and judges them. */
  states: number;
  /** Transitions out of the worlds above the split depth. */
  transitions: number;
  /** Worlds above the split depth that a bound kept from being expanded, by bound (every shard counts them). */
  cut: { inFlight: number; round: number; depth: number };
  /** Worlds at the split depth, and how many of them are this shard's. */
  frontier: number;
  share: number;
}
