/**
 * `npm run soak [-- --kills N --seed S --kills-per-round K --out DIR]`: the crash soak (see
 * crash-soak.ts). Progress on stderr, the table on stdout; exit 1 on any violation, divergence,
 * lost decision or failed restart, 2 on bad flags.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runSoak, soakTable } from './crash-soak.js';

const USAGE = 'npm run soak -- [--kills N (default 100)] [--seed S (default: random)] [--kills-per-round K (default 8)] [--out DIR (default: a temporary folder, removed unless something failed)]';

function wholeNumber(name: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min) throw new Error(`--${name} must be a whole number from ${min}, got '${raw}'`);
  return Number(raw);
}

async function main(): Promise<number> {
  let kills: number, seed: number, perRound: number, out: string | undefined;
  try {
    const { values } = parseArgs({ options: { kills: { type: 'string' }, seed: { type: 'string' }, 'kills-per-round': { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean' } } });
    if (values.help) {
      process.stdout.write(USAGE + '\n');
      return 0;
    }
    kills = wholeNumber('kills', values.kills, 100, 1);
    seed = wholeNumber('seed', values.seed, Math.floor(Math.random() * 2 ** 31), 0);
    perRound = wholeNumber('kills-per-round', values['kills-per-round'], 8, 1);
    out = values.out;
  } catch (err) {
    process.stderr.write(`soak: ${(err as Error).message.split('\n')[0]} (usage: ${USAGE})\n`);
    return 2;
  }
  const dir = out ? resolve(out) : mkdtempSync(join(tmpdir(), 'coordkit-soak-'));
  process.stderr.write(`soak: ${kills} kill -9 over consensus (5 nodes) and mutex (3 nodes) clusters, seed ${seed}, folders in ${dir}\n`);
  const report = await runSoak({ kills, seed, dir, killsPerRound: perRound, progress: (line) => process.stderr.write(line + '\n') });
  process.stdout.write(`\ncrash soak, seed ${seed}, ${Math.round(report.elapsedMs / 1000)} s (replay: npm run soak -- --kills ${kills} --kills-per-round ${perRound} --seed ${seed})\n${soakTable(report)}\n${report.ok ? 'PASS' : 'FAIL'}\n`);
  if (report.ok && !out) rmSync(dir, { recursive: true, force: true });
  else process.stdout.write(`traces kept in ${dir}\n`);
  return report.ok ? 0 : 1;
}

process.exitCode = await main();
