/**
 * coordkit's runtime measured as a user meets it: real `coordkit node` processes on loopback over
 * mutual TLS (the default), driven by clients with the cluster's client certificate.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, cpSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { makeClusterCerts } from '../src/runtime/cluster-certs.js';
import { LOCAL_CLIENT, LocalCluster, localCertNames } from '../src/runtime/local-cluster.js';
import { NodeClient } from '../src/runtime/node-client.js';
import { packageRoot } from '../src/runtime/package-root.js';
import { clientName, loadCredentials } from '../src/runtime/tls.js';
import { BURST_CYCLES, cpuPerWrite, latency, measuredLoad, paced, percentile, perSecond, processCpuMs, settling, since, sleep, until, warmUp, WARMUP_REQUEST_SECONDS, WARMUP_SECONDS, type MeasuredLoad, type Row } from './runtime-stats.js';

export interface CoordkitBench {
  dir: string;
  /** Samples per latency figure (fewer with --quick). */
  samples: number;
  failoverTrials: number;
  stabilitySeconds: number;
  throughputSeconds: number;
  /** The parts to run (`--only`); all when absent. */
  only?: ReadonlySet<string>;
  /** Another built checkout (`--against`): its node's first start is measured in the same rounds. */
  against?: string;
  progress: (line: string) => void;
}

const TLS = 'tls';

async function start(b: CoordkitBench, primitive: string, nodes: number, name: string): Promise<LocalCluster> {
  // No note goes to the launcher: the clients timed here are the only ones listening, as in etcd's bench.
  return LocalCluster.start({ primitive, nodes, dir: join(b.dir, name), tlsDir: join(b.dir, TLS), startTimeoutMs: 30_000, launcherNotes: false });
}

const openClient = (b: CoordkitBench, c: LocalCluster, id: number, options: { notes?: boolean } = {}) =>
  NodeClient.open(c.addresses.get(id)!, c.cluster, LOCAL_CLIENT, 10_000, loadCredentials(join(b.dir, TLS), clientName(LOCAL_CLIENT)), options);

const notesOf = (client: NodeClient, type: string) => client.notes.filter((n) => n.note.type === type).length;

/**
 * Resolves true once `ok()` holds over `client`'s notes, checked when a note arrives (not polled:
 * a timer's millisecond would be in the figure, and etcd's lock answers its call), or false after
 * `timeoutMs`.
 */
function noteArrives(client: NodeClient, ok: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  if (ok()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const before = client.onNote;
    const done = (result: boolean) => {
      client.onNote = before;
      clearTimeout(timer);
      resolve(result);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    client.onNote = (frame) => {
      before?.(frame);
      if (ok()) done(true);
    };
  });
}

/** Resolves true once `client` holds more than `seen` notes of `type` (see noteArrives). */
const noted = (client: NodeClient, type: string, seen: number, timeoutMs = 10_000) => noteArrives(client, () => notesOf(client, type) > seen, timeoutMs);

/** The leader every running node follows, once they agree and it says it leads. */
async function agreedLeader(c: LocalCluster, timeoutMs = 10_000): Promise<{ leader: number; term: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const statuses = await Promise.all(c.ids.filter((id) => c.isUp(id)).map((id) => c.client(id).status(1000)));
      const leaders = new Set(statuses.map((s) => s.leader));
      const leader = statuses[0].leader;
      const own = statuses.find((s) => s.node === leader);
      if (leaders.size === 1 && typeof leader === 'number' && own?.state === 'leader') return { leader, term: own.round ?? 0 };
    } catch {
      // a node just killed or restarting
    }
    if (Date.now() > deadline) throw new Error('no agreed leader');
    await sleep(5);
  }
}

/** Milliseconds from a `client.propose` of `value` to the `decision` note that answers it (its slot and the value decided there). */
async function decide(client: NodeClient, value: string): Promise<number | null> {
  const told = noteArrives(client, () => client.notes.some((n) => n.note.type === 'decision' && n.note.proposal === value));
  const t0 = performance.now();
  await client.request({ type: 'client.propose', value } as { type: string }, 10_000);
  return (await told) ? since(t0) : null;
}

/**
 * Consensus decisions at node 1 of fresh 3-node clusters: the first (phase 1 and phase 2, each
 * flushed) in each cluster, then, after WARMUP_REQUEST_SECONDS of untimed ones, the next ones at the same
 * node, the warm leader, which runs phase 2 only (one round trip and its flushes).
 */
async function consensusDecisions(b: CoordkitBench): Promise<{ first: number[]; warm: number[]; settled: number[] }> {
  const first: number[] = [];
  const warm: number[] = [];
  /** The first cluster's decisions while it warms up. */
  let settled: number[] = [];
  const clusters = Math.max(5, Math.round(b.samples / 20));
  for (let i = 0; i < clusters; i++) {
    const c = await start(b, 'consensus', 3, `consensus-${i}`);
    try {
      const client = await openClient(b, c, 1);
      await client.status();
      const ms = await decide(client, `v${i}`);
      if (ms === null) throw new Error('consensus: no first decision');
      first.push(ms);
      const warming = await warmUp(async (k) => {
        const ms = await decide(client, `v${i}-warm-${k}`);
        if (ms === null) throw new Error('consensus: no decision at the warm leader');
        return ms;
      });
      if (i === 0) settled = warming;
      for (let k = 0; k < Math.ceil(b.samples / clusters); k++) {
        const next = await paced(() => decide(client, `v${i}-${k + 2}`));
        if (next === null) throw new Error('consensus: no decision at the warm leader');
        warm.push(next);
      }
      client.close();
    } finally {
      await c.stop();
    }
  }
  return { first, warm, settled };
}

/** Decisions a cluster takes before the long-log figure is timed. */
const LONG_LOG = 3000;

/**
 * The warm leader's decisions after LONG_LOG of them: a consensus node keeps every decided slot
 * in its context, so each step's trace and log records grow with the log. Also the size of node
 * 1's trace then.
 */
async function consensusLongLog(b: CoordkitBench): Promise<{ ms: number[]; traceBytes: number }> {
  const c = await start(b, 'consensus', 3, 'consensus-long');
  try {
    const client = await openClient(b, c, 1);
    await client.status();
    for (let k = 0; k < LONG_LOG; k++) {
      if ((await decide(client, `long-${k}`)) === null) throw new Error('consensus: no decision in the long log');
    }
    const ms: number[] = [];
    for (let k = 0; k < Math.max(20, Math.round(b.samples / 5)); k++) {
      const next = await decide(client, `long-timed-${k}`);
      if (next === null) throw new Error('consensus: no decision in the long log');
      ms.push(next);
    }
    client.close();
    return { ms, traceBytes: statSync(join(c.nodeDir(1), 'trace.ndjson')).size };
  } finally {
    await c.stop();
  }
}

async function mutexFigures(b: CoordkitBench): Promise<Row[]> {
  const c = await start(b, 'mutex', 3, 'mutex');
  try {
    const a = await openClient(b, c, 1);
    const other = await openClient(b, c, 2);
    /** One acquire → enter (timed) and release. */
    const cycle = async (): Promise<number> => {
      const entered = noted(a, 'enter', notesOf(a, 'enter'));
      const t0 = performance.now();
      await a.request({ type: 'client.acquire' }, 10_000);
      if (!(await entered)) throw new Error('mutex: no enter');
      const ms = since(t0);
      await a.request({ type: 'client.release' }, 10_000);
      return ms;
    };
    const warming = await warmUp(cycle);
    const enter: number[] = [];
    for (let i = 0; i < b.samples; i++) enter.push(await paced(cycle));
    await sleep(200);
    const cycleStart = performance.now();
    for (let i = 0; i < BURST_CYCLES; i++) await cycle();
    const cycles = perSecond(BURST_CYCLES, since(cycleStart));
    const handoff: number[] = [];
    for (let i = 0; i < Math.max(20, b.samples / 4); i++) {
      const aIn = noted(a, 'enter', notesOf(a, 'enter'));
      await a.request({ type: 'client.acquire' }, 10_000);
      await aIn;
      const bIn = noted(other, 'enter', notesOf(other, 'enter'));
      await other.request({ type: 'client.acquire' }, 10_000);
      await sleep(30); // B's request has reached every node's queue
      const t0 = performance.now();
      await a.request({ type: 'client.release' }, 10_000);
      if (!(await bIn)) throw new Error('mutex: no handoff');
      handoff.push(since(t0));
      await other.request({ type: 'client.release' }, 10_000);
    }
    a.close();
    other.close();
    return [
      { key: 'enter', figure: 'mutex acquire → enter, uncontended', coordkit: latency(enter) },
      { key: 'enter-warmup', figure: `mutex acquire → enter while a fresh cluster warms up (its first ${WARMUP_REQUEST_SECONDS} s)`, coordkit: settling(warming) },
      { key: 'handoff', figure: 'mutex handoff (release → enter on another node)', coordkit: latency(handoff) },
      { key: 'cycles', figure: `mutex acquire/release cycles per second, 1 client (${BURST_CYCLES} back to back)`, coordkit: cycles },
    ];
  } finally {
    await c.stop();
  }
}

/**
 * `clients` connections writing at the leader as fast as answers come back, for `seconds` after
 * WARMUP_SECONDS of the same writes. With
 * `notes: false` (etcd's puts have no watch either) the writers opened here take no pushed notes;
 * the launcher's own connection, one of the writers, takes none either way (bench clusters start
 * without launcher notes).
 */
async function writeLoad(b: CoordkitBench, c: LocalCluster, leader: number, clients: number, seconds: number, notes = false) {
  // The launcher's own connection counts against the per-address cap (32): it is one of the writers.
  // Opened one after another: 31 TLS handshakes at once keep a leader's event loop busy past its followers' timeouts.
  const own: NodeClient[] = [];
  for (let i = 1; i < clients; i++) {
    own.push(await openClient(b, c, leader, { notes }));
    await sleep(10);
  }
  const writers = [c.client(leader), ...own];
  const ms: number[] = [];
  const refused = new Map<string, number>();
  // What is measured is the load after its first seconds (WARMUP_SECONDS).
  const measured = await measuredLoad(writers, () => c.ids.map((id) => c.pid(id)), seconds, async (w, i, k, counted) => {
    const s = performance.now();
    const f = await w.call({ type: 'request', request: { type: 'client.set', value: `w${i}-${k}` } }, 10_000).catch((err: Error) => err);
    if (!(f instanceof Error) && f.type === 'reply') {
      if (counted) ms.push(since(s));
    } else {
      const why = f instanceof Error ? 'no answer' : f.type === 'error' ? f.reason.replace(/[\d.]+/g, 'N').slice(0, 60) : f.type;
      if (counted) refused.set(why, (refused.get(why) ?? 0) + 1);
      await sleep(20);
    }
  });
  for (const w of own) w.close();
  return { ms, refused: [...refused].map(([why, n]) => `${n} × ${why}`).join('; '), elapsed: measured.elapsedMs, cpu: measured };
}

async function electionFigures(b: CoordkitBench): Promise<Row[]> {
  const c = await start(b, 'election', 3, 'election');
  try {
    const { leader } = await agreedLeader(c);
    const client = await openClient(b, c, leader);
    const set: number[] = [];
    await warmUp((i) => client.request({ type: 'client.set', value: `warm${i}` } as { type: string }, 10_000).then(() => sleep(5)));
    for (let i = 0; i < b.samples; i++) {
      const t0 = performance.now();
      await client.request({ type: 'client.set', value: `s${i}` } as { type: string }, 10_000);
      set.push(since(t0));
      // Under the per-client rate limit (200/s).
      await sleep(5);
    }
    client.close();
    const load = await writeLoad(b, c, leader, 32, b.throughputSeconds);
    await sleep(200); // the writers just closed no longer count against the per-address cap
    const watched = await writeLoad(b, c, leader, 32, b.throughputSeconds, true);
    const figure = (l: typeof load) => `${perSecond(l.ms.length, l.elapsed)}, ${latency(l.ms)}, ${cpuPerWrite(l.cpu, l.ms.length, 'nodes')}${l.refused ? `; failed: ${l.refused}` : ''}`;
    return [
      { key: 'write1', figure: 'election `client.set` at the leader, 1 client', coordkit: latency(set) },
      { key: 'write32', figure: `election \`client.set\` at the leader, 32 clients without notes (${b.throughputSeconds} s after ${WARMUP_SECONDS} s of warm-up)`, coordkit: figure(load) },
      { key: 'write32-notes', figure: `election \`client.set\` at the leader, 32 clients, 31 of which take every note (${b.throughputSeconds} s after ${WARMUP_SECONDS} s of warm-up)`, coordkit: figure(watched) },
    ];
  } finally {
    await c.stop();
  }
}

async function failover(b: CoordkitBench, nodes: number): Promise<number[]> {
  const c = await start(b, 'election', nodes, `failover-${nodes}`);
  const out: number[] = [];
  try {
    for (let trial = 0; trial < b.failoverTrials; trial++) {
      const { leader, term } = await agreedLeader(c, 20_000);
      await sleep(100 + Math.random() * 100);
      const t0 = performance.now();
      await c.kill(leader);
      const elected = await until(async () => {
        const statuses = await Promise.all(c.ids.filter((id) => c.isUp(id)).map((id) => c.client(id).status(1000).catch(() => null)));
        return statuses.some((s) => s?.state === 'leader' && (s.round ?? 0) > term);
      }, 10_000, 1);
      if (elected) out.push(since(t0));
      // A restart that is slow to link up on a busy machine is waited for by the next trial.
      await c.restart(leader).catch((err) => b.progress(`failover: restart of node ${leader}: ${(err as Error).message}`));
    }
  } finally {
    await c.stop();
  }
  return out;
}

/** What a leader did under `seconds` of writes from `clients` connections (stability). */
export interface WriteStability {
  /** Leaders (node@term) seen, the first one included: one entry means no change. */
  leaders: string[];
  writes: number[];
  elapsedMs: number;
  refused: string;
  /** The CPU the nodes and the clients spent in the measured writes. */
  cpu: MeasuredLoad;
}

/**
 * Starts a 3-node election cluster in `b.dir/<name>`, writes at its leader from `clients`
 * connections for `seconds` while polling every node's status, and says which leaders it saw.
 */
export async function writeStability(b: Pick<CoordkitBench, 'dir'>, seconds: number, clients: number, name = 'stability'): Promise<WriteStability> {
  const c = await start(b as CoordkitBench, 'election', 3, name);
  try {
    const first = await agreedLeader(c);
    const seen = [`${first.leader}@${first.term}`];
    let polling = true;
    const poll = (async () => {
      while (polling) {
        for (const id of c.ids) {
          const s = await c.client(id).status(2000).catch(() => null);
          if (s && s.state === 'leader' && seen.at(-1) !== `${s.node}@${s.round}`) seen.push(`${s.node}@${s.round}`);
        }
        await sleep(50);
      }
    })();
    const load = await writeLoad(b as CoordkitBench, c, first.leader, clients, seconds);
    polling = false;
    await poll;
    const last = await agreedLeader(c);
    if (seen.at(-1) !== `${last.leader}@${last.term}`) seen.push(`${last.leader}@${last.term}`);
    return { leaders: seen, writes: load.ms, elapsedMs: load.elapsed, refused: load.refused, cpu: load.cpu };
  } finally {
    await c.stop();
  }
}

async function stability(b: CoordkitBench): Promise<string> {
  const r = await writeStability(b, b.stabilitySeconds, 32);
  const changes = new Set(r.leaders).size - 1;
  return `${changes} leader change${changes === 1 ? '' : 's'} (${r.writes.length} writes, ${perSecond(r.writes.length, r.elapsedMs)}, ${latency(r.writes)}, ${cpuPerWrite(r.cpu, r.writes.length, 'nodes')}${r.refused ? `; failed: ${r.refused}` : ''})`;
}

/** Startup CPU samples (ms), one of each per round, interleaved so that every kind sees the same load. */
export interface StartupCpu {
  /** A node on a fresh data folder, and again on the same folder (a restart). */
  first: number[];
  restart: number[];
  /** A first start of the node unbundled (COORDKIT_NODE_BUNDLE=0): every module loaded from dist/. */
  unbundled: number[];
  /** A first start of the node of the `--against` checkout, when given. */
  against: number[];
  /** A Node process that does nothing but say it listens (`node -e`), and one that only reads a node's PEM files and listens with TLS. */
  empty: number[];
  tlsListen: number[];
}

/**
 * CPU a `coordkit node` process spends from spawn until it says it listens, started on a fresh
 * data folder and then again on the same one (a restart: compiled validators kept), beside what
 * an empty Node process and a bare TLS listener cost on this machine at the same moment.
 */
export async function startupCpu(b: CoordkitBench, samples: number): Promise<StartupCpu> {
  const out: StartupCpu = { first: [], restart: [], unbundled: [], against: [], empty: [], tlsListen: [] };
  for (let i = 0; i < samples; i++) {
    out.first.push(await nodeStartCpu(b, i));
    out.restart.push(await nodeStartCpu(b, i));
    out.unbundled.push(await nodeStartCpu(b, `unbundled-${i}`, { COORDKIT_NODE_BUNDLE: '0' }));
    if (b.against) out.against.push(await nodeStartCpu(b, `against-${i}`, {}, b.against));
    out.empty.push(await listeningCpu(['-e', "process.stderr.write('listening\\n'); setTimeout(() => {}, 30_000);"]));
    out.tlsListen.push(await listeningCpu(['-e', TLS_LISTENER, join(b.dir, TLS)]));
  }
  return out;
}

/** Trace records a long-lived node has behind it, for the restart figure that depends on them (about 34 MB). */
export const LONG_TRACE_RECORDS = 100_000;

/**
 * CPU of restarts of a node whose trace holds LONG_TRACE_RECORDS records (its own first record,
 * repeated with the numbers going on): what a start costs that grows with the node's history.
 */
export async function longTraceRestartCpu(b: CoordkitBench, samples: number): Promise<number[]> {
  const seed = join(b.dir, 'startup', 'long');
  await nodeStartCpu(b, 'long');
  const trace = join(seed, 'trace.ndjson');
  const record = JSON.parse(readFileSync(trace, 'utf8').split('\n')[0]) as { seq: number; kind: string };
  let chunk = '';
  for (let seq = 1; seq < LONG_TRACE_RECORDS; seq++) {
    chunk += JSON.stringify({ ...record, seq, kind: 'timer' }) + '\n';
    if (chunk.length > 1 << 20 || seq === LONG_TRACE_RECORDS - 1) {
      appendFileSync(trace, chunk);
      chunk = '';
    }
  }
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const copy = `long-${i}`;
    cpSync(seed, join(b.dir, 'startup', copy), { recursive: true });
    out.push(await nodeStartCpu(b, copy));
  }
  return out;
}


/** The least a mutual-TLS node does before it listens: read its PEM files, make a TLS server, listen, say so. */
const TLS_LISTENER = `const fs = require('node:fs'), d = process.argv[1];
require('node:tls').createServer({ ca: fs.readFileSync(d + '/ca.pem'), cert: fs.readFileSync(d + '/node-1.pem'), key: fs.readFileSync(d + '/node-1.key'), requestCert: true, rejectUnauthorized: true })
  .listen(0, '127.0.0.1', () => process.stderr.write('listening\\n'));`;

/** CPU a Node process started with `args` spends until it writes 'listening' on stderr. */
async function listeningCpu(args: string[], env: Record<string, string> = {}): Promise<number> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
  try {
    await new Promise<void>((resolve, reject) => {
      let text = '';
      child.stderr!.on('data', (d) => {
        text += d;
        if (text.includes('listening')) resolve();
      });
      child.once('exit', () => reject(new Error(`exited before listening: ${text.trim()}`)));
    });
    return processCpuMs(child.pid!);
  } finally {
    clearTimeout(kill);
    child.kill('SIGKILL');
    if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
  }
}

const nodeStartCpu = (b: CoordkitBench, i: number | string, env: Record<string, string> = {}, root = packageRoot()): Promise<number> =>
  listeningCpu([join(root, 'bin', 'coordkit.js'), 'node', '--primitive', 'election', '--id', '1', '--listen', '127.0.0.1:0', '--peers', '2=127.0.0.1:1,3=127.0.0.1:2', '--data', join(b.dir, 'startup', String(i)), '--tls-dir', join(b.dir, TLS), '--cluster', 'startup'], env);

/** Runs one part of the bench; a part that fails is a row saying so, not the end of the run. */
export async function part(b: CoordkitBench, name: string, rows: Row[], key: string, system: 'coordkit' | 'etcd', run: () => Promise<Row[]>): Promise<void> {
  b.progress(`${system}: ${name}`);
  try {
    rows.push(...(await run()));
  } catch (err) {
    b.progress(`${system}: ${name} failed: ${(err as Error).message}`);
    rows.push({ key, figure: name, [system]: `failed: ${(err as Error).message.split('\n')[0]}` });
  }
}

/** The parts `--only` can name, in the order they run. */
export const BENCH_PARTS = ['floor', 'consensus', 'mutex', 'election', 'failover', 'stability', 'startup', 'etcd'] as const;

/** Whether `--only` asked for this part (every part when it was not given). */
export const wanted = (b: Pick<CoordkitBench, 'only'>, name: (typeof BENCH_PARTS)[number]) => !b.only || b.only.has(name);

export async function coordkitRows(b: CoordkitBench): Promise<Row[]> {
  await makeClusterCerts(join(b.dir, TLS), localCertNames(5), { days: 1 });
  const rows: Row[] = [];
  if (wanted(b, 'consensus')) {
    await part(b, 'consensus decisions (fresh 3-node clusters, then their warm leader)', rows, 'consensus', 'coordkit', async () => {
      const { first, warm, settled } = await consensusDecisions(b);
      const long = await consensusLongLog(b);
      return [
        { key: 'consensus', figure: 'consensus `client.propose` → `decision`, warm leader (phase 2 only, 3 nodes)', coordkit: latency(warm) },
        { key: 'consensus-first', figure: 'consensus `client.propose` → `decision`, first decision of a fresh cluster (3 nodes)', coordkit: latency(first) },
        { key: 'consensus-warmup', figure: `consensus \`client.propose\` → \`decision\` at a fresh cluster's leader while it warms up (its first ${WARMUP_REQUEST_SECONDS} s)`, coordkit: settling(settled) },
        { key: 'consensus-long', figure: `consensus \`client.propose\` → \`decision\`, warm leader after ${LONG_LOG} decisions (every slot stays in a node's context)`, coordkit: `${latency(long.ms)}; node 1's trace then ${(long.traceBytes / 2 ** 20).toFixed(1)} MiB` },
      ];
    });
  }
  if (wanted(b, 'mutex')) await part(b, 'mutex', rows, 'enter', 'coordkit', () => mutexFigures(b));
  if (wanted(b, 'election')) await part(b, 'election writes', rows, 'write1', 'coordkit', () => electionFigures(b));
  for (const n of wanted(b, 'failover') ? [3, 5] : []) {
    await part(b, `failover at ${n} nodes, ${b.failoverTrials} trials`, rows, `failover${n}`, 'coordkit', async () => [
      { key: `failover${n}`, figure: `leader failover after kill -9, ${n} nodes`, coordkit: latency(await failover(b, n)) },
    ]);
  }
  if (wanted(b, 'stability')) {
    await part(b, `${b.stabilitySeconds} s of writes from 32 clients`, rows, 'stability', 'coordkit', async () => [
      { key: 'stability', figure: `leader changes under ${b.stabilitySeconds} s of pipelined writes (32 clients without notes)`, coordkit: await stability(b) },
    ]);
  }
  if (!wanted(b, 'startup')) return rows;
  b.progress('coordkit: node startup CPU');
  const cpu = await startupCpu(b, 10);
  const cpuFigure = (ms: number[]) => `p50 ${Math.round(percentile(ms, 50))} ms, min ${Math.round(Math.min(...ms))} ms, max ${Math.round(Math.max(...ms))} ms (n ${ms.length})`;
  rows.push({ key: 'startup', figure: 'node startup CPU (spawn → listening, mutual TLS), first start; floor: `node -e` that does nothing', floor: cpuFigure(cpu.empty), coordkit: cpuFigure(cpu.first) });
  rows.push({ key: 'startup-tls', figure: 'floor: a Node process that reads a node\'s PEM files and listens with TLS, nothing else', floor: cpuFigure(cpu.tlsListen) });
  rows.push({ key: 'restart', figure: 'node startup CPU, restart on the same data folder', coordkit: cpuFigure(cpu.restart) });
  if (b.against) rows.push({ key: 'startup-against', figure: `node startup CPU, first start, of ${b.against} (--against)`, coordkit: cpuFigure(cpu.against) });
  rows.push({ key: 'startup-unbundled', figure: 'node startup CPU, first start, unbundled (COORDKIT_NODE_BUNDLE=0)', coordkit: cpuFigure(cpu.unbundled) });
  const long = await longTraceRestartCpu(b, 3);
  rows.push({ key: 'restart-long', figure: `node startup CPU, restart with ${LONG_TRACE_RECORDS.toLocaleString('en')} trace records behind it`, coordkit: cpuFigure(long) });
  return rows;
}
