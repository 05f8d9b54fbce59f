/**
 * `npm run bench:walks`: how reliably random walks find each buggy variant. For every buggy
 * variant of every primitive, at the configuration that reveals it, 20 seeds each walk up to
 * 1,000 runs; a seed finds the bug when its walk reports the property the variant breaks.
 * Printed: the share of seeds that find it and the median number of runs they needed (a seed
 * that does not find it counts as more than the limit). A walk that violates another property
 * first (a variant may break several) keeps looking, judging the rest. Walks are deterministic per seed, so
 * the table is the same on every machine; only the times vary.
 *
 * `npm run bench:walks -- mutex` keeps the primitives whose name is given; `--seeds N` and
 * `--runs N` change the 20 seeds and the 1,000 runs.
 */
import { pathToFileURL } from 'node:url';
import { protocols } from '../machines/index.js';
import { createModel } from '../src/check/model.js';
import { walk } from '../src/check/walk.js';

const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

export interface WalkSuccess {
  primitive: string;
  variant: string;
  breaks: string;
  seeds: number;
  found: number;
  /** Runs each seed needed, Infinity when it did not find the bug. */
  runs: number[];
  ms: number;
}

/** The median of the runs each seed needed; Infinity when fewer than half found the bug. */
export function medianRuns(runs: readonly number[]): number {
  const sorted = [...runs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function walkSuccess(primitive: string, variant: string, seeds: number, runs: number): WalkSuccess {
  const protocol = protocols.find((p) => p.name === primitive)!;
  const breaks = protocol.variants.find((v) => v.name === variant)!.breaks!;
  const model = createModel(protocol, { variant });
  const started = performance.now();
  const needed: number[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    // A walk that violates another property first keeps looking for this one.
    const r = walk(model, { seed, runs, shrink: false, all: true, until: breaks });
    needed.push(r.runsToFind[breaks] ?? Infinity);
  }
  return { primitive, variant, breaks, seeds, found: needed.filter(Number.isFinite).length, runs: needed, ms: performance.now() - started };
}

function main(argv: string[]) {
  const option = (name: string, fallback: number) => {
    const at = argv.indexOf(name);
    if (at < 0) return fallback;
    const value = Number(argv[at + 1]);
    if (!Number.isInteger(value) || value < 1) {
      console.error(`bench:walks: ${name} needs a positive whole number`);
      process.exit(2);
    }
    argv.splice(at, 2);
    return value;
  };
  const seeds = option('--seeds', 20);
  const runs = option('--runs', 1_000);
  const unknown = argv.filter((a) => !protocols.some((p) => p.name === a));
  if (unknown.length) {
    console.error(`bench:walks: unknown primitive '${unknown[0]}' (choose from: ${protocols.map((p) => p.name).join(', ')})`);
    process.exit(2);
  }
  console.log(`| primitive | variant | property broken | seeds finding it within ${fmt(runs)} runs | median runs to find it | time |`);
  console.log('|---|---|---|---|---|---|');
  let short = 0;
  for (const protocol of protocols) {
    if (argv.length && !argv.includes(protocol.name)) continue;
    for (const v of protocol.variants) {
      if (!v.breaks) continue;
      const r = walkSuccess(protocol.name, v.name, seeds, runs);
      const median = medianRuns(r.runs);
      if (r.found * 20 < r.seeds * 19) short++;
      console.log(`| ${r.primitive} | \`${r.variant}\` | ${r.breaks} | ${r.found}/${r.seeds} | ${Number.isFinite(median) ? fmt(median) : `> ${fmt(runs)}`} | ${(r.ms / 1000).toFixed(1)} s |`);
    }
  }
  console.log(short ? `\n${short} variant(s) found by fewer than 19 of 20 seeds` : '\nevery variant found by at least 19 of 20 seeds');
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));
