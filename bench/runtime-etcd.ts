/**
 * The same figures from etcd, when an `etcd` binary is installed: three members on loopback,
 * heartbeat 50 ms and election timeout 250 ms (as coordkit's election), data on the same disk,
 * driven through etcd's JSON gateway over keep-alive HTTP (one connection per client).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { freePorts } from '../src/runtime/local-cluster.js';
import { BURST_CYCLES, cpuPerWrite, latency, measuredLoad, paced, perSecond, settling, since, sleep, until, warmUp, WARMUP_SECONDS, type Row } from './runtime-stats.js';
import type { CoordkitBench } from './runtime-coordkit.js';

/** The etcd binary's version line, or null when none is installed. */
export function etcdVersion(): string | null {
  const r = spawnSync('etcd', ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? r.stdout.split('\n')[0].trim() : null;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

function post(port: number, path: string, body: object, agent: Agent, timeoutMs = 10_000): Promise<any> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) }, timeout: timeoutMs }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        try {
          const json = JSON.parse(text);
          if (res.statusCode !== 200) reject(new Error(`etcd ${path}: ${res.statusCode} ${text.slice(0, 200)}`));
          else resolve(json);
        } catch {
          reject(new Error(`etcd ${path}: not JSON: ${text.slice(0, 200)}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`etcd ${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(data);
  });
}

class EtcdCluster {
  private readonly procs = new Map<number, ChildProcess>();
  readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });

  private constructor(private readonly dir: string, readonly clientPorts: number[], private readonly peerPorts: number[]) {}

  static async start(dir: string, members: number): Promise<EtcdCluster> {
    const ports = await freePorts(members * 2);
    const c = new EtcdCluster(dir, ports.slice(0, members), ports.slice(members));
    for (let i = 1; i <= members; i++) c.spawn(i);
    await c.leader(30_000);
    return c;
  }

  get ids(): number[] {
    return this.clientPorts.map((_, i) => i + 1);
  }

  port(id: number): number {
    return this.clientPorts[id - 1];
  }

  private spawn(id: number): void {
    const peer = (i: number) => `http://127.0.0.1:${this.peerPorts[i - 1]}`;
    const client = `http://127.0.0.1:${this.port(id)}`;
    mkdirSync(this.dir, { recursive: true });
    const log = openSync(join(this.dir, `etcd-${id}.log`), 'a');
    const args = [
      '--name', `e${id}`, '--data-dir', join(this.dir, `e${id}`),
      '--listen-client-urls', client, '--advertise-client-urls', client,
      '--listen-peer-urls', peer(id), '--initial-advertise-peer-urls', peer(id),
      '--initial-cluster', this.ids.map((i) => `e${i}=${peer(i)}`).join(','), '--initial-cluster-state', 'new', '--initial-cluster-token', 'bench',
      '--heartbeat-interval', '50', '--election-timeout', '250',
    ];
    const child = spawn('etcd', args, { stdio: ['ignore', log, log] });
    closeSync(log);
    this.procs.set(id, child);
  }

  isUp(id: number): boolean {
    const p = this.procs.get(id);
    return !!p && p.exitCode === null && p.signalCode === null;
  }

  async status(id: number): Promise<{ member: string; leader: string }> {
    const s = await post(this.port(id), '/v3/maintenance/status', {}, this.agent, 1000);
    return { member: s.header.member_id, leader: s.leader };
  }

  /** The member every running member names as leader, by our id. */
  async leader(timeoutMs = 10_000, not?: string): Promise<{ id: number; member: string }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const statuses = await Promise.all(this.ids.filter((id) => this.isUp(id)).map((id) => this.status(id).then((s) => ({ id, ...s })).catch(() => null)));
      const up = statuses.filter((s) => s !== null);
      const named = new Set(up.map((s) => s!.leader));
      const leader = up.find((s) => s!.member === s!.leader);
      if (up.length && named.size === 1 && leader && leader.leader !== '0' && leader.leader !== not) return { id: leader.id, member: leader.member };
      if (Date.now() > deadline) throw new Error('etcd: no agreed leader');
      await sleep(5);
    }
  }

  /** The members' process ids. */
  get pids(): (number | undefined)[] {
    return [...this.procs.values()].map((p) => p.pid);
  }

  kill(id: number): void {
    this.procs.get(id)?.kill('SIGKILL');
  }

  async restart(id: number): Promise<void> {
    const old = this.procs.get(id);
    if (old && old.exitCode === null && old.signalCode === null) await new Promise((r) => old.once('exit', r));
    this.spawn(id);
  }

  async stop(): Promise<void> {
    for (const p of this.procs.values()) p.kill('SIGKILL');
    this.agent.destroy();
  }
}

async function puts(c: EtcdCluster, port: number, clients: number, seconds: number) {
  const agents = Array.from({ length: clients }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
  const ms: number[] = [];
  // As coordkit's writers: the same puts for WARMUP_SECONDS first (the agents' connections open then).
  const measured = await measuredLoad(agents, () => c.pids, seconds, async (agent, i, k, counted) => {
    const s = performance.now();
    await post(port, '/v3/kv/put', { key: b64(`k${i}`), value: b64(`v${k}`) }, agent);
    if (counted) ms.push(since(s));
  });
  for (const a of agents) a.destroy();
  return { ms, elapsed: measured.elapsedMs, cpu: measured };
}

export async function etcdRows(b: CoordkitBench): Promise<Row[]> {
  const rows: Row[] = [];
  const dir = join(b.dir, 'etcd');
  b.progress('etcd: puts, locks');
  let c = await EtcdCluster.start(join(dir, 'main'), 3);
  try {
    const { id } = await c.leader();
    const port = c.port(id);
    const put: number[] = [];
    await warmUp((i) => post(port, '/v3/kv/put', { key: b64('k'), value: b64(`warm${i}`) }, c.agent));
    for (let i = 0; i < b.samples; i++) {
      await paced(async () => {
        const t0 = performance.now();
        await post(port, '/v3/kv/put', { key: b64('k'), value: b64(`v${i}`) }, c.agent);
        put.push(since(t0));
      });
    }
    rows.push({ key: 'write1', figure: 'put at the leader, 1 client', etcd: latency(put) });
    const load = await puts(c, port, 32, b.throughputSeconds);
    rows.push({ key: 'write32', figure: `puts at the leader, 32 clients (${b.throughputSeconds} s after ${WARMUP_SECONDS} s of warm-up)`, etcd: `${perSecond(load.ms.length, load.elapsed)}, ${latency(load.ms)}, ${cpuPerWrite(load.cpu, load.ms.length, 'members')}` });

    // Locks through the leader's member, each client with its own lease and connection.
    const a = new Agent({ keepAlive: true, maxSockets: 1 });
    const other = new Agent({ keepAlive: true, maxSockets: 1 });
    const lease = async (agent: Agent) => (await post(port, '/v3/lease/grant', { TTL: 60 }, agent)).ID;
    const leaseA = await lease(a);
    const leaseB = await lease(other);
    const name = b64('bench-lock');
    const enter: number[] = [];
    const cycle = async () => {
      const t0 = performance.now();
      const { key } = await post(port, '/v3/lock/lock', { name, lease: leaseA }, a);
      const ms = since(t0);
      await post(port, '/v3/lock/unlock', { key }, a);
      return ms;
    };
    const warming = await warmUp(cycle);
    for (let i = 0; i < b.samples; i++) enter.push(await paced(cycle));
    await sleep(200);
    const cycleStart = performance.now();
    for (let i = 0; i < BURST_CYCLES; i++) await cycle();
    const cycles = perSecond(BURST_CYCLES, since(cycleStart));
    const handoff: number[] = [];
    for (let i = 0; i < Math.max(20, b.samples / 4); i++) {
      const { key } = await post(port, '/v3/lock/lock', { name, lease: leaseA }, a);
      const waiting = post(port, '/v3/lock/lock', { name, lease: leaseB }, other);
      await sleep(30);
      const t0 = performance.now();
      await post(port, '/v3/lock/unlock', { key }, a);
      const got = await waiting;
      handoff.push(since(t0));
      await post(port, '/v3/lock/unlock', { key: got.key }, other);
    }
    a.destroy();
    other.destroy();
    rows.push({ key: 'enter', figure: 'lock → held, uncontended (`/v3/lock`)', etcd: latency(enter) });
    rows.push({ key: 'enter-warmup', figure: 'lock → held over the first locks (after the puts)', etcd: settling(warming) });
    rows.push({ key: 'handoff', figure: 'lock handoff (unlock → lock returns to another client)', etcd: latency(handoff) });
    rows.push({ key: 'cycles', figure: `lock/unlock cycles per second, 1 client (${BURST_CYCLES} back to back)`, etcd: cycles });

    b.progress(`etcd: ${b.stabilitySeconds} s of puts from 32 clients`);
    const before = await c.leader();
    const seen = new Set([before.member]);
    let polling = true;
    const poll = (async () => {
      while (polling) {
        for (const m of c.ids) {
          const s = await c.status(m).catch(() => null);
          if (s && s.leader !== '0') seen.add(s.leader);
        }
        await sleep(50);
      }
    })();
    const long = await puts(c, port, 32, b.stabilitySeconds);
    polling = false;
    await poll;
    rows.push({ key: 'stability', figure: `leader changes under ${b.stabilitySeconds} s of pipelined puts (32 clients)`, etcd: `${seen.size - 1} (${long.ms.length} puts, ${perSecond(long.ms.length, long.elapsed)}, ${latency(long.ms)}, ${cpuPerWrite(long.cpu, long.ms.length, 'members')})` });
  } finally {
    await c.stop();
  }

  for (const members of [3, 5]) {
    b.progress(`etcd: failover at ${members} members, ${b.failoverTrials} trials`);
    c = await EtcdCluster.start(join(dir, `failover-${members}`), members);
    const out: number[] = [];
    try {
      for (let trial = 0; trial < b.failoverTrials; trial++) {
        const old = await c.leader(20_000);
        await sleep(100 + Math.random() * 100);
        const t0 = performance.now();
        c.kill(old.id);
        const elected = await until(async () => {
          const statuses = await Promise.all(c.ids.filter((id) => id !== old.id).map((id) => c.status(id).catch(() => null)));
          return statuses.some((s) => s !== null && s.leader !== '0' && s.leader !== old.member && s.member === s.leader);
        }, 10_000, 1);
        if (elected) out.push(since(t0));
        await c.restart(old.id);
        await until(async () => (await c.status(old.id).catch(() => null)) !== null, 20_000, 20);
      }
    } finally {
      await c.stop();
    }
    rows.push({ key: `failover${members}`, figure: `leader failover after kill -9, ${members} nodes`, etcd: latency(out) });
  }
  return rows;
}
