/**
 * `npm run bench:shard`: the duplicate work of a sharded exploration. Runs one check unsharded,
 * then each of its n shards one after the other (as n CI jobs would run side by side), each in
 * its own process, and merges them against the unsharded counts. By default the 3-node mutex
 * with two requests per node, its clocks bounded at 7, in 4 shards:
 * `npm run bench:shard -- [SHARDS] [check arguments...]` runs another.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [first, ...rest] = process.argv.slice(2);
const shards = first && /^\d+$/.test(first) ? Number(first) : 4;
const given = first && /^\d+$/.test(first) ? rest : process.argv.slice(2);
const check = given.length ? given : ['mutex', '--param', 'requests=2', '--max-round', '7'];
const args = [...check, '--mode', 'explore', '--max-states', '100000000', '--json'];
const dir = mkdtempSync(join(tmpdir(), 'coordkit-bench-shard-'));
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

function coordkit(label: string, extra: string[]): { file: string; json: { states: number; transitions: number; elapsedMs: number; summary: string } } {
  const started = performance.now();
  const r = spawnSync('node', ['bin/coordkit.js', 'check', ...args, ...extra], { encoding: 'utf8', timeout: 3_600_000, maxBuffer: 1 << 28 });
  if (!r.stdout) throw new Error(`${label}: ${r.stderr.trim() || `exit ${r.status}`}`);
  const json = JSON.parse(r.stdout);
  const file = join(dir, `${label.replace(/\W+/g, '-')}.json`);
  writeFileSync(file, r.stdout);
  process.stdout.write(`${label.padEnd(12)} ${fmt(json.states).padStart(12)} states ${fmt(json.transitions).padStart(13)} transitions ${fmt(json.elapsedMs).padStart(9)} ms (${fmt(performance.now() - started)} ms with start-up)\n`);
  return { file, json };
}

process.stdout.write(`coordkit check ${check.join(' ')}, unsharded and in ${shards} shards\n`);
const whole = coordkit('unsharded', []);
const parts = Array.from({ length: shards }, (_, k) => coordkit(`shard ${k + 1}/${shards}`, ['--shard', `${k + 1}/${shards}`]));
const merged = spawnSync('node', ['bin/coordkit.js', 'merge', ...parts.map((p) => p.file), '--unsharded', whole.file], { encoding: 'utf8', timeout: 60_000 });
process.stdout.write(`\n${merged.stdout}${merged.stderr}`);
process.stdout.write(`unsharded: ${whole.json.summary}\n`);
