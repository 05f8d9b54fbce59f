/** `coordkit merge FILE...`: one verdict from the `check --shard i/n --json` results of one model. */
import { readFileSync } from 'node:fs';
import { MergeError, mergeShards, type Merged, type MergeInput } from '../check/shard-merge.js';
import { STATUS_LABELS as LABELS } from '../check/verdict.js';
import { parse } from './parse.js';
import { UsageError } from './usage-error.js';

const USAGE = 'coordkit merge FILE... [--unsharded FILE] [--json]';

function read(file: string): MergeInput {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return { file, result: JSON.parse(text) };
  } catch {
    throw new UsageError(`${file}: not JSON (the output of 'coordkit check --shard i/n --json')`);
  }
}

export async function mergeCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      unsharded: { type: 'string', help: "FILE the unsharded check's --json result: the shards' work is measured against its counts" },
      json: { type: 'boolean', help: 'print one JSON object instead of text' },
    },
    USAGE,
  );
  if (!positionals.length) throw new UsageError(`no shard results given (usage: ${USAGE})`);
  let merged: Merged;
  try {
    merged = mergeShards(positionals.map(read), values.unsharded === undefined ? undefined : read(values.unsharded));
  } catch (err) {
    if (err instanceof MergeError) throw new UsageError(err.message);
    throw err;
  }
  process.stdout.write(values.json ? JSON.stringify(merged) + '\n' : text(merged));
  return merged.outcome === 'fail' ? 1 : 0;
}

const count = (n: number) => n.toLocaleString('en-US');

function text(m: Merged): string {
  const n = m.shards.count;
  const out = [`${m.primitive} · variant ${m.variant} · ${m.nodes} nodes · mode ${m.mode} · ${n} shards (${m.shards.present.length} given)`];
  if (m.search) {
    const p = m.prefix;
    const split = p && p.depth !== null ? `split at depth ${p.depth} into ${count(p.frontier)} worlds; every shard searched the ${count(p.states)} worlds down to it` : 'not split: the search did not go past the split depth, so every shard searched all of it';
    out.push(`explore (${m.search}): ${split}`);
    out.push(`work: ${count(m.states)} states, ${count(m.transitions)} transitions summed over the shards (a world below more than one shard's share is counted by each)`);
    if (m.unsharded) {
      const u = m.unsharded;
      out.push(`unsharded: ${count(u.states)} states, ${count(u.transitions)} transitions, ${count(u.elapsedMs)} ms: the shards did ${u.stateRatio.toFixed(2)}x its states, ${u.transitionRatio.toFixed(2)}x its transitions; the slowest shard took ${((m.shards.slowest.elapsedMs / u.elapsedMs) * 100).toFixed(0)}% of its time`);
    }
  }
  if (m.walk) out.push(`walk: ${count(m.walk.runs)} runs of seed ${m.walk.seed} (${count(m.walk.planned)} planned over the ${n} shards)`);
  out.push(`slowest: shard ${m.shards.slowest.index}/${n} (${count(m.shards.slowest.elapsedMs)} ms)`);
  if (m.extent) out.push(m.extent);
  for (const p of m.properties) out.push(`  ${LABELS[p.status]} ${p.kind.padEnd(10)} ${p.name}${p.detail ? ` (${p.detail})` : ''}`);
  for (const v of m.violations) {
    const also = v.foundBy.filter((i) => i !== v.shard);
    out.push('', `violation of '${v.invariant}' (${v.kind}) found by ${v.mode} in ${v.steps} steps, by shard ${v.shard}/${n}${also.length ? ` (also found by ${also.map((i) => `${i}/${n}`).join(', ')})` : ''}`, `replay: ${v.replay}`);
  }
  out.push('', m.summary);
  return out.join('\n') + '\n';
}
