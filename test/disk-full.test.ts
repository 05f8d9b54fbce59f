/**
 * Disk faults through the real `coordkit node` command: a data folder that cannot be created, a
 * read-only data folder (at start and under a running node), a full file system under a running
 * node. Each stops the node with one `coordkit:` line naming the call, the file and the errno,
 * exit code 4, no stack trace; after a restart on a healthy disk the cluster's traces show that
 * no peer received a message of the unsaved step (conformance and properties over the merged
 * trace). A small file system is a tmpfs mount, and a read-only folder a read-only bind mount:
 * both need root and a kernel that lets us mount; without them the variant says why it is
 * skipped, and a non-root run uses chmod for the read-only folder. Needs `npx tsc -p .` first.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { protocols } from '../machines/index.js';
import { LocalCluster } from '../src/runtime/local-cluster.js';
import { analyzeTraces } from '../src/runtime/run-cluster.js';

const BIN = join(__dirname, '..', 'bin', 'coordkit.js');
/**
 * How a hand-started node proves who it is: nothing where plain TCP is the default, `--insecure`
 * where the command has it (these nodes fail on their disk before they ever connect). Clusters
 * get their credentials from the launcher.
 */
const NODE_CREDENTIALS: string[] = spawnSync(process.execPath, [BIN, 'node', '--no-such-flag'], { encoding: 'utf8', timeout: 20_000 }).stderr.includes('--insecure') ? ['--insecure'] : [];
const root = mkdtempSync(join(tmpdir(), 'coordkit-diskfull-'));
const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts.reverse()) spawnSync('umount', ['-l', m], { timeout: 10_000 });
  rmSync(root, { recursive: true, force: true });
});
const election = protocols.find((p) => p.name === 'election')!;
const prevote = election.variants.find((v) => v.name === election.defaultVariant)!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isRoot = process.getuid?.() === 0;

function mount(args: string[]): boolean {
  const r = spawnSync('mount', args, { encoding: 'utf8', timeout: 10_000 });
  if (r.status === 0) mounts.push(args[args.length - 1]);
  return r.status === 0;
}

/** Whether this run may mount a tmpfs (root, and a kernel or container that allows it). */
const canMount = (() => {
  if (!isRoot) return false;
  const probe = join(root, 'probe');
  mkdirSync(probe);
  if (!mount(['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe])) return false;
  spawnSync('umount', [probe], { timeout: 10_000 });
  mounts.pop();
  return true;
})();
const noMount = isRoot ? 'mounting a tmpfs was refused here' : 'a tmpfs mount needs root';

/** The one line a node stopped by a disk fault prints. */
const FAULT_LINE = (call: string, code: string) => new RegExp(`^coordkit: node \\d+: disk fault: ${call} \\S+ failed: ${code} \\([^)]+\\); stopped before anything that depends on it was sent \\(exit 4\\)$`);

function startNode(data: string): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, 'node', '--primitive', 'election', '--id', '1', '--listen', '127.0.0.1:0', '--peers', '2=127.0.0.1:1,3=127.0.0.1:2', '--data', data, ...NODE_CREDENTIALS], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stderr: r.stderr };
}

function expectOneFaultLine(text: string, call: string, code: string): void {
  const lines = text.trim().split('\n').filter((l) => l.startsWith('coordkit:'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(FAULT_LINE(call, code));
  expect(text).not.toMatch(/^\s+at /m);
  expect(text).not.toMatch(/Error:/);
}

describe('coordkit node on a data folder it cannot write', () => {
  it('a file where the data folder should be: exit 4, one line', () => {
    const blocker = join(root, 'not-a-folder');
    writeFileSync(blocker, 'x');
    const r = startNode(join(blocker, 'n1'));
    expect(r.status).toBe(4);
    expectOneFaultLine(r.stderr, 'create folder', 'ENOTDIR');
  });

  it('a read-only data folder: exit 4, one line', (ctx) => {
    const data = join(root, 'readonly');
    mkdirSync(data);
    if (isRoot) {
      if (!canMount) return ctx.skip(`read-only folder as root: ${noMount} (chmod does not stop root)`);
      expect(mount(['-t', 'tmpfs', '-o', 'size=64k,ro', 'tmpfs', data])).toBe(true);
    } else chmodSync(data, 0o555);
    const r = startNode(join(data, 'n1'));
    expect(r.status).toBe(4);
    expectOneFaultLine(r.stderr, 'create folder', isRoot ? 'EROFS' : 'EACCES');
  });
});

interface Fault {
  victim: number;
  /** Makes the disk healthy again. */
  undo: () => void;
}

/**
 * A 3-node election cluster (`prepare` runs on the node folders before it starts); `fault` breaks
 * one node's disk. Waits for that node to exit, heals the disk, restarts every stopped node, and
 * judges the run from the traces.
 */
async function faultUnderCluster(name: string, prepare: (nodeDir: (id: number) => string) => void, fault: (c: LocalCluster) => Promise<Fault>, nodeArgs: string[] = []) {
  const dir = join(root, name);
  const nodeDir = (id: number) => join(dir, `node-${id}`);
  prepare(nodeDir);
  const cluster = await LocalCluster.start({ primitive: 'election', nodes: 3, dir, startTimeoutMs: 20_000, nodeArgs });
  try {
    const { victim, undo } = await fault(cluster);
    const deadline = Date.now() + 15_000;
    while (cluster.exitStatus(victim) === null && Date.now() < deadline) await sleep(20);
    const status = cluster.exitStatus(victim);
    const log = readFileSync(join(nodeDir(victim), 'node.log'), 'utf8');
    undo();
    for (const id of cluster.ids) if (cluster.exitStatus(id) !== null) await cluster.restart(id);
    await sleep(600);
    await cluster.stop();
    const files = [join(dir, 'cluster.ndjson'), ...cluster.ids.map((id) => join(nodeDir(id), 'trace.ndjson'))];
    return { status, log, analysis: analyzeTraces(election, prevote, 3, files) };
  } finally {
    await cluster.stop();
  }
}

/** The node every up node follows. */
async function leaderOf(cluster: LocalCluster): Promise<number> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const statuses = await Promise.all(cluster.ids.filter((id) => cluster.isUp(id)).map((id) => cluster.client(id).status()));
    const leaders = new Set(statuses.map((s) => s.leader));
    if (leaders.size === 1 && typeof statuses[0].leader === 'number') return statuses[0].leader;
    if (Date.now() > deadline) throw new Error('no agreed leader');
    await sleep(25);
  }
}

describe('a running node whose disk fails', () => {
  it.skipIf(!canMount)(`a full file system: the node stops with ENOSPC, exit 4; after a restart nothing unsaved was ever received${canMount ? '' : ` (skipped: ${noMount})`}`, async () => {
    const victim = 2;
    const run = await faultUnderCluster(
      'full',
      (nodeDir) => {
        mkdirSync(nodeDir(victim), { recursive: true });
        expect(mount(['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', nodeDir(victim)])).toBe(true);
        // The node's own log goes elsewhere, so the fault line does not need the full disk.
        symlinkSync(join(root, 'full-node.log'), join(nodeDir(victim), 'node.log'));
      },
      async (cluster) => {
        const filler = join(cluster.nodeDir(victim), 'filler');
        const fd = openSync(filler, 'w');
        const chunk = Buffer.alloc(4096, 1);
        try {
          for (;;) writeSync(fd, chunk);
        } catch (err) {
          expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
        } finally {
          closeSync(fd);
        }
        return { victim, undo: () => rmSync(filler) };
      },
    );
    expect(run.status).toBe(4);
    expectOneFaultLine(run.log, '(write|open)', 'ENOSPC');
    expect(run.analysis.divergences).toEqual([]);
    expect(run.analysis.properties.violations).toEqual([]);
  }, 90_000);

  // Files already open stay writable in a folder turned read-only; the log's next write that needs
  // the folder is a compaction, made here by one-byte segments (every flush starts a new one).
  it('the data folder turns read-only: the node stops at its next log write that needs the folder, exit 4; nothing unsaved was received', async (ctx) => {
    if (isRoot && !canMount) return ctx.skip(`read-only folder as root: ${noMount}`);
    const run = await faultUnderCluster(
      'ro-running',
      () => {},
      async (cluster) => {
        const leader = await leaderOf(cluster);
        const victim = cluster.ids.find((id) => id !== leader)!;
        const nodeDir = cluster.nodeDir(victim);
        // Read-only from now on: files open for writing (the trace) stay writable, a new log segment cannot be made.
        if (isRoot) {
          expect(mount(['--bind', nodeDir, nodeDir])).toBe(true);
          expect(mount(['-o', 'remount,bind,ro', nodeDir])).toBe(true);
        } else chmodSync(nodeDir, 0o555);
        // The leader goes: the next election changes the victim's term, which it must save before it votes or campaigns.
        await cluster.kill(leader);
        const undo = () => {
          if (!isRoot) return chmodSync(nodeDir, 0o755);
          spawnSync('umount', [nodeDir], { timeout: 10_000 });
          mounts.splice(mounts.indexOf(nodeDir), 1);
        };
        return { victim, undo };
      },
      ['--wal-segment-bytes', '1'],
    );
    expect(run.status).toBe(4);
    expectOneFaultLine(run.log, 'open', isRoot ? 'EROFS' : 'EACCES');
    expect(run.analysis.divergences).toEqual([]);
    expect(run.analysis.properties.violations).toEqual([]);
  }, 90_000);
});
