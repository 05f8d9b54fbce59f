/**
 * The crash soak: real node processes of consensus (5 nodes) and mutex (3 nodes) clusters, with
 * clients working, killed with -9 at random moments and restarted, round after round, until the
 * asked number of kills is reached. Each round is judged as `coordkit cluster` judges a run (the
 * primitive's properties over the merged trace, every node replayed through the pure machine),
 * and for lost decisions: every fact a client was told (a consensus node applied a value, a mutex
 * node entered with a timestamp) must be in the durable state each later incarnation of that
 * node restarted from. A restart that fails (the process exits, or does not answer) is counted.
 * Seeded: the same seed makes the same choices (the kill times still meet a real scheduler).
 */
import { join } from 'node:path';
import { protocols } from '../machines/index.js';
import { canonical } from '../src/canonical.js';
import type { Protocol } from '../src/protocol.js';
import { LocalCluster } from '../src/runtime/local-cluster.js';
import { analyzeTraces } from '../src/runtime/run-cluster.js';
import { readTrace, type NodeRecord } from '../src/runtime/trace-log.js';
import type { NoteFrame } from '../src/runtime/wire.js';
import { Rng } from '../src/sim/timed-rng.js';

export interface SoakOptions {
  /** Kills in all (rounds alternate consensus and mutex). */
  kills: number;
  seed: number;
  /** One folder per round. */
  dir: string;
  /** Kills per round. */
  killsPerRound?: number;
  /** Progress lines. */
  progress?: (line: string) => void;
}

export interface SoakRow {
  primitive: string;
  nodes: number;
  rounds: number;
  kills: number;
  /** Client operations acknowledged: proposals answered, decisions applied; grants and releases. */
  operations: number;
  violations: string[];
  divergences: string[];
  lostDecisions: string[];
  failedRestarts: string[];
}

export interface SoakReport {
  seed: number;
  rows: SoakRow[];
  elapsedMs: number;
  ok: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Workload {
  primitive: string;
  nodes: number;
  /** At most this many nodes down at once (a minority for consensus; one for mutex). */
  maxDown: number;
  /** Runs the clients until `stop()` says so; returns the operations acknowledged. */
  clients(c: LocalCluster, rng: Rng, running: () => boolean): Promise<number>;
  /** After the kills, with every node up: brings the cluster to a settled end. */
  settle(c: LocalCluster): Promise<number>;
  /** Whether a restarted node's durable state still holds a fact a client was told. */
  reflected(note: NoteFrame['note'], restored: Record<string, unknown> | null): boolean;
}

const request = async (c: LocalCluster, id: number, req: { type: string; [k: string]: unknown }) => {
  try {
    return await c.request(id, req);
  } catch {
    return null; // killed under us
  }
};

const notesOf = (c: LocalCluster, node: number, type: string) => c.notes.filter((f) => f.node === node && f.note.type === type);

async function until(ok: () => boolean, timeoutMs: number, stop: () => boolean = () => false): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline || stop()) return false;
    await sleep(10);
  }
  return true;
}

const mutex: Workload = {
  primitive: 'mutex',
  nodes: 3,
  maxDown: 1,
  async clients(c, rng, running) {
    let ops = 0;
    const loop = async (id: number) => {
      while (running()) {
        if (!c.isUp(id)) {
          await sleep(20);
          continue;
        }
        const entered = notesOf(c, id, 'enter').length;
        const reply = await request(c, id, { type: 'client.acquire' });
        if (!reply || (reply.state !== 'waiting' && reply.state !== 'critical')) {
          await sleep(20); // down, or still rejoining after a restart
          continue;
        }
        ops++;
        // A kill of this node, or of a peer it waits for, holds it up until the restart.
        if (!(await until(() => notesOf(c, id, 'enter').length > entered, 15_000, () => !c.isUp(id)))) continue;
        ops++;
        await sleep(rng.int(2, 20));
        if (await request(c, id, { type: 'client.release' })) ops++;
        await sleep(rng.int(0, 30));
      }
    };
    await Promise.all(c.ids.map(loop));
    return ops;
  },
  async settle(c) {
    // Whoever still holds the lock gives it back; then every node must go idle.
    let ops = 0;
    const deadline = Date.now() + 15_000;
    for (;;) {
      const statuses = await Promise.all(c.ids.map((id) => c.client(id).status()));
      if (statuses.every((s) => s.state === 'idle')) return ops;
      if (Date.now() > deadline) return ops;
      for (const s of statuses) if (s.state === 'critical' && (await request(c, s.node, { type: 'client.release' }))) ops++;
      await sleep(50);
    }
  },
  reflected: (note, restored) => note.type !== 'enter' || (restored !== null && ((restored.clockBound ?? restored.clock) as number) >= (note.ts as number)),
};

const VALUES = ['scale_up', 'scale_down', 'scale_out', 'scale_in', 'hold'];

const consensus: Workload = {
  primitive: 'consensus',
  nodes: 5,
  maxDown: 2,
  async clients(c, rng, running) {
    let ops = 0;
    // Competing proposals from time to time at random up nodes, while nodes die and come back.
    while (running()) {
      const up = c.ids.filter((id) => c.isUp(id));
      const id = up[rng.int(0, up.length - 1)];
      if (id !== undefined && (await request(c, id, { type: 'client.propose', value: VALUES[rng.int(0, VALUES.length - 1)] }))) ops++;
      await sleep(rng.int(50, 400));
    }
    return ops;
  },
  async settle(c) {
    // Every node is asked to propose until it takes a proposal and is told the value decided for
    // its slot: one that missed a decision proposes for that slot, finds it in phase 1 and learns
    // it; one that is still proposing a client's value answers with no value and is asked again.
    let ops = 0;
    const deadline = Date.now() + 40_000;
    const told = (id: number, value: string) => notesOf(c, id, 'decision').find((f) => f.note.proposal === value);
    await Promise.all(
      c.ids.map(async (id) => {
        for (let k = 0; Date.now() < deadline; k++) {
          const value = `settle-${id}-${k}`;
          if (await request(c, id, { type: 'client.propose', value })) ops++;
          await until(() => told(id, value) !== undefined, Math.max(0, deadline - Date.now()));
          if (told(id, value)?.note.value != null) return;
          await sleep(100);
        }
      }),
    );
    // Then every slot some node applied is applied at every node (the `decided` broadcasts land).
    const applied = (id: number) => new Set(notesOf(c, id, 'applied').map((f) => f.note.slot));
    const slots = () => new Set(c.notes.filter((f) => f.note.type === 'applied').map((f) => f.note.slot));
    await until(() => c.ids.every((id) => [...slots()].every((slot) => applied(id).has(slot))), Math.max(0, deadline - Date.now()));
    return ops + c.notes.filter((f) => f.note.type === 'applied').length;
  },
  // A value applied for a slot, or told to a client as decided there, is in the log the node restarts with.
  reflected: (note, restored) => {
    if (note.type !== 'applied' && (note.type !== 'decision' || note.value === null)) return true;
    const log = (restored?.log ?? []) as (string | null)[];
    return log[(note.slot as number) - 1] === note.value;
  },
};

async function answers(c: LocalCluster, id: number): Promise<boolean> {
  if (c.exitStatus(id) !== null || !c.isUp(id)) return false;
  return c.client(id).status().then(() => true, () => false);
}

const workloads = [consensus, mutex];

/**
 * Facts clients were told (`told`: the notes the nodes pushed) that a later incarnation of the
 * node did not restart with; `traces[id - 1]` is node id's trace.
 */
export function lostDecisions(primitive: string, told: readonly NoteFrame[], traces: readonly NodeRecord[][]): string[] {
  const w = workloads.find((x) => x.primitive === primitive);
  if (!w) throw new Error(`no soak workload for ${primitive}`);
  const lost: string[] = [];
  traces.forEach((records, i) => {
    const id = i + 1;
    for (const note of told.filter((f) => f.node === id).map((f) => f.note)) {
      const key = canonical(note);
      const at = records.findIndex((r) => r.notes.some((n) => canonical(n) === key));
      if (at < 0) {
        lost.push(`node ${id} told a client ${key} but never traced it`);
        continue;
      }
      for (const r of records.slice(at + 1)) {
        if (r.kind === 'init' && !w.reflected(note, (r.restored ?? null) as Record<string, unknown> | null)) {
          lost.push(`node ${id} told a client ${key}, then restarted (record ${r.seq}) from ${canonical(r.restored ?? null)}`);
        }
      }
    }
  });
  return lost;
}

async function round(w: Workload, protocol: Protocol, index: number, kills: number, options: SoakOptions, rng: Rng, row: SoakRow): Promise<void> {
  const dir = join(options.dir, `round-${String(index).padStart(3, '0')}-${w.primitive}`);
  const say = options.progress ?? (() => {});
  const cluster = await LocalCluster.start({ primitive: w.primitive, nodes: w.nodes, dir, startTimeoutMs: 30_000 });
  let running = true;
  try {
    const clients = w.clients(cluster, rng, () => running);
    const down = new Set<number>();
    const restarts: Promise<void>[] = [];
    for (let k = 0; k < kills; k++) {
      await sleep(rng.int(50, 500));
      const candidates = cluster.ids.filter((id) => cluster.isUp(id) && !down.has(id));
      if (down.size >= w.maxDown || candidates.length === 0) await Promise.all(restarts.splice(0));
      const pool = cluster.ids.filter((id) => cluster.isUp(id) && !down.has(id));
      const victim = pool[rng.int(0, pool.length - 1)];
      await cluster.kill(victim);
      row.kills++;
      down.add(victim);
      say(`  ${w.primitive} round ${index}: kill -9 node ${victim} (${row.kills} kills in ${w.primitive} rounds)`);
      const delayMs = rng.int(0, 600);
      restarts.push(
        (async () => {
          await sleep(delayMs);
          try {
            await cluster.restart(victim);
          } catch (err) {
            // The restart waits for every up node's links too, and another kill may cut that
            // short: only a node that exited or does not answer failed to restart.
            if (!(await answers(cluster, victim))) {
              const why = (err as Error).message.split('\n')[0];
              row.failedRestarts.push(`${w.primitive} round ${index}, node ${victim}: ${why}`);
              say(`  FAILED RESTART of node ${victim}: ${why}`);
              if (cluster.exitStatus(victim) !== null) await cluster.restart(victim).catch(() => {});
            }
          }
          down.delete(victim);
        })(),
      );
    }
    await Promise.all(restarts);
    running = false;
    row.operations += await clients;
    row.operations += await w.settle(cluster);
  } finally {
    running = false;
    await cluster.stop();
  }
  const files = [join(dir, 'cluster.ndjson'), ...cluster.ids.map((id) => join(dir, `node-${id}`, 'trace.ndjson'))];
  const variant = protocol.variants.find((v) => v.name === protocol.defaultVariant)!;
  const a = analyzeTraces(protocol, variant, w.nodes, files);
  row.violations.push(...a.properties.violations.map((v) => `round ${index}: ${v.property}${v.index >= 0 ? ` after record ${v.index}` : ' at the end'}`));
  row.divergences.push(...a.divergences.map((d) => `round ${index}: node ${d.node} record ${d.seq}: ${d.what}`));
  const traces = cluster.ids.map((id) => readTrace(join(dir, `node-${id}`, 'trace.ndjson')) as NodeRecord[]);
  row.lostDecisions.push(...lostDecisions(w.primitive, cluster.notes, traces).map((l) => `round ${index}: ${l}`));
  row.rounds++;
  say(`${w.primitive} round ${index} done: ${kills} kills, ${a.merged.length} trace records, ${a.properties.violations.length} violations, ${a.divergences.length} divergences`);
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const t0 = performance.now();
  const rng = new Rng(options.seed);
  const perRound = options.killsPerRound ?? 8;
  const rounds = workloads.map((w) => ({ w, protocol: protocols.find((p) => p.name === w.primitive)! }));
  const rows: SoakRow[] = rounds.map(({ w }) => ({ primitive: w.primitive, nodes: w.nodes, rounds: 0, kills: 0, operations: 0, violations: [], divergences: [], lostDecisions: [], failedRestarts: [] }));
  let done = 0;
  for (let index = 1; done < options.kills; index++) {
    const which = (index - 1) % rounds.length;
    const kills = Math.min(perRound, options.kills - done);
    await round(rounds[which].w, rounds[which].protocol, index, kills, options, rng, rows[which]);
    done += kills;
  }
  const ok = rows.every((r) => r.violations.length + r.divergences.length + r.lostDecisions.length + r.failedRestarts.length === 0);
  return { seed: options.seed, rows, elapsedMs: Math.round(performance.now() - t0), ok };
}

/** The report as a table, then every problem on its own line. */
export function soakTable(r: SoakReport): string {
  const head = ['primitive', 'nodes', 'rounds', 'kills', 'operations', 'violations', 'lost decisions', 'failed restarts', 'divergences'];
  const total: SoakRow = { primitive: 'total', nodes: 0, rounds: 0, kills: 0, operations: 0, violations: [], divergences: [], lostDecisions: [], failedRestarts: [] };
  for (const row of r.rows) {
    total.rounds += row.rounds;
    total.kills += row.kills;
    total.operations += row.operations;
    total.violations.push(...row.violations);
    total.divergences.push(...row.divergences);
    total.lostDecisions.push(...row.lostDecisions);
    total.failedRestarts.push(...row.failedRestarts);
  }
  const cells = [...r.rows, total].map((row) => [row.primitive, row.nodes ? String(row.nodes) : '', String(row.rounds), String(row.kills), String(row.operations), String(row.violations.length), String(row.lostDecisions.length), String(row.failedRestarts.length), String(row.divergences.length)]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const fmt = (c: string[]) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ');
  const lines = [fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(fmt)];
  for (const p of [...total.violations, ...total.lostDecisions, ...total.failedRestarts, ...total.divergences]) lines.push(`  ${p}`);
  return lines.join('\n');
}

/** The number of kills a report's rows add up to. */
export const soakKills = (r: SoakReport) => r.rows.reduce((a, row) => a + row.kills, 0);
