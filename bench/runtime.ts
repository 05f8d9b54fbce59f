/**
 * `npm run bench:runtime [-- --quick] [--only PARTS] [--stability-seconds S] [--trials N] [--samples N] [--out DIR]`:
 * the runtime's figures in one run, side by side: the floor of this machine (TCP round trip, a
 * durable append), coordkit's real node processes over mutual TLS, and etcd when an `etcd`
 * binary is installed (skipped with one line otherwise). Progress on stderr, the table on stdout.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_PARTS, coordkitRows, part, wanted, type CoordkitBench } from './runtime-coordkit.js';
import { etcdRows, etcdVersion } from './runtime-etcd.js';
import { appendSyncs, atomicReplaces, tcpRoundTrips } from './runtime-floor.js';
import { latency, PACE_MS, table, WARMUP_REQUEST_SECONDS, type Row } from './runtime-stats.js';

const USAGE = `npm run bench:runtime -- [--quick] [--only ${BENCH_PARTS.join(',')} (some of them)] [--no-etcd] [--stability-seconds S (default 60)] [--trials N (failover trials, default 20)] [--samples N (latency samples, default 200)] [--against DIR (another built checkout: its node startup measured in the same rounds)] [--out DIR]`;

/** A built checkout to compare startup with: a folder holding bin/coordkit.js and dist/. */
function againstRoot(raw: string): string {
  const root = resolve(raw);
  if (!existsSync(join(root, 'bin', 'coordkit.js')) || !existsSync(join(root, 'dist', 'src', 'cli.js'))) throw new Error(`--against ${raw}: no bin/coordkit.js and dist/src/cli.js there (a checkout built with npm run build)`);
  return root;
}

function whole(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new Error(`--${name} must be a whole number from 1, got '${raw}'`);
  return Number(raw);
}

async function main(): Promise<number> {
  let bench: CoordkitBench;
  let out: string | undefined;
  let skipEtcd = false;
  try {
    const { values } = parseArgs({ options: { quick: { type: 'boolean' }, 'no-etcd': { type: 'boolean' }, 'stability-seconds': { type: 'string' }, trials: { type: 'string' }, samples: { type: 'string' }, out: { type: 'string' }, only: { type: 'string' }, against: { type: 'string' }, help: { type: 'boolean' } } });
    if (values.help) {
      process.stdout.write(USAGE + '\n');
      return 0;
    }
    const quick = !!values.quick;
    out = values.out;
    if (out !== undefined && existsSync(out) && readdirSync(out).length) throw new Error(`--out ${out}: not empty (the bench writes its clusters and certificates there): give a new or empty folder`);
    skipEtcd = !!values['no-etcd'];
    const only = values.only === undefined ? undefined : new Set(values.only.split(',').map((p) => p.trim()));
    const unknown = only && [...only].find((p) => !(BENCH_PARTS as readonly string[]).includes(p));
    if (unknown !== undefined) throw new Error(`--only: no part '${unknown}' (choose from: ${BENCH_PARTS.join(', ')})`);
    bench = {
      dir: out ? resolve(out) : mkdtempSync(join(tmpdir(), 'coordkit-bench-runtime-')),
      samples: whole('samples', values.samples, quick ? 40 : 200),
      failoverTrials: whole('trials', values.trials, quick ? 4 : 20),
      stabilitySeconds: whole('stability-seconds', values['stability-seconds'], quick ? 5 : 60),
      throughputSeconds: quick ? 3 : 10,
      progress: (line) => process.stderr.write(`bench:runtime: ${line}\n`),
      ...(only ? { only } : {}),
      ...(values.against ? { against: againstRoot(values.against) } : {}),
    };
  } catch (err) {
    process.stderr.write(`bench:runtime: ${(err as Error).message.split('\n')[0]} (usage: ${USAGE})\n`);
    return 2;
  }
  const started = Date.now();
  const loadAtStart = loadavg()[0].toFixed(1);
  const rows: Row[] = [];
  if (wanted(bench, 'floor')) {
    bench.progress('floor');
    rows.push({ key: 'rtt', figure: 'TCP ping-pong round trip, loopback, two processes', floor: latency(await tcpRoundTrips(2000)) });
    rows.push({ key: 'append', figure: 'append 160 bytes + fdatasync', floor: latency(appendSyncs(join(bench.dir, 'floor'), bench.samples)) });
    rows.push({ key: 'replace', figure: 'temp file + fsync + rename + folder fsync (the store before the log)', floor: latency(atomicReplaces(join(bench.dir, 'floor'), bench.samples)) });
  }
  rows.push(...(await coordkitRows(bench)));
  if (!wanted(bench, 'etcd')) skipEtcd = true;
  const version = skipEtcd ? null : etcdVersion();
  if (version) await part(bench, 'etcd', rows, 'etcd', 'etcd', () => etcdRows(bench));
  else process.stderr.write(`bench:runtime: etcd skipped: ${skipEtcd ? (bench.only && !bench.only.has('etcd') ? 'not in --only' : '--no-etcd') : 'no `etcd` binary on PATH (Debian: apt-get install etcd-server)'}\n`);
  process.stdout.write(`\nruntime bench, ${Math.round((Date.now() - started) / 1000)} s, load average ${loadAtStart} at the start and ${loadavg()[0].toFixed(1)} at the end, ${bench.samples} samples per latency (one at most every ${PACE_MS} ms, after ${WARMUP_REQUEST_SECONDS} s of untimed requests of its kind), ${bench.failoverTrials} failover trials${version ? `, ${version}` : ', without etcd'}\n\n${table(rows)}\n`);
  if (!out) rmSync(bench.dir, { recursive: true, force: true });
  return 0;
}

process.exitCode = await main();
