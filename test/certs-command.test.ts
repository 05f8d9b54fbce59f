/**
 * `coordkit certs` and hand-started nodes, through the real commands: the certificates it makes
 * let three `coordkit node --tls-dir` processes elect a leader, a client certificate reads status
 * but may not partition, an admin certificate may; running it again adds a client to the same CA.
 * Bad input is one line and exit 2. Needs `npx tsc -p .` first.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePorts } from '../src/runtime/local-cluster.js';
import { NodeClient } from '../src/runtime/node-client.js';
import { loadCredentials } from '../src/runtime/tls.js';
import type { StatusFrame } from '../src/runtime/wire.js';
import { runCli } from './runtime-helpers.js';

const BIN = join(__dirname, '..', 'bin', 'coordkit.js');
const root = mkdtempSync(join(tmpdir(), 'coordkit-certs-'));
const children: ChildProcess[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const coordkit = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000 });

afterAll(async () => {
  await Promise.all(children.filter((c) => c.exitCode === null && c.signalCode === null).map((c) => new Promise((r) => (c.once('exit', r), c.kill('SIGKILL')))));
  rmSync(root, { recursive: true, force: true });
});

/** Starts `coordkit node` with a kill timer; its output goes to `<data>.log`. */
function startNode(args: string[], log: string): ChildProcess {
  const fd = openSync(log, 'a');
  const child = spawn(process.execPath, [BIN, 'node', ...args], { stdio: ['ignore', fd, fd], timeout: 150_000 });
  const killer = setTimeout(() => child.kill('SIGKILL'), 150_000);
  child.once('exit', () => clearTimeout(killer));
  children.push(child);
  return child;
}

describe('coordkit certs', () => {
  it('makes certificates that a hand-started cluster uses; roles follow the certificates', async () => {
    const tls = join(root, 'tls');
    const made = coordkit('certs', '--out', tls, '--nodes', '3', '--clients', 'app', '--admins', 'ops');
    expect(made.stderr).toBe('');
    expect(made.status).toBe(0);
    expect(made.stdout).toMatch(/^made a new cluster CA in .*tls: ca\.pem/);
    for (const name of ['ca', 'node-1', 'node-2', 'node-3', 'client-app', 'admin-ops']) expect(existsSync(join(tls, `${name}.pem`)), name).toBe(true);
    for (const name of ['ca', 'node-1', 'client-app']) expect(statSync(join(tls, `${name}.key`)).mode & 0o777, name).toBe(0o600);

    const ports = await freePorts(3);
    const peersOf = (id: number) => ports.map((p, i) => `${i + 1}=127.0.0.1:${p}`).filter((_, i) => i + 1 !== id).join(',');
    const nodes = [1, 2, 3].map((id) =>
      startNode(['--primitive', 'election', '--id', String(id), '--listen', `127.0.0.1:${ports[id - 1]}`, '--peers', peersOf(id), '--data', join(root, `n${id}`), '--cluster', 'hand', '--tls-dir', tls], join(root, `n${id}.log`)),
    );
    const address = (id: number) => ({ host: '127.0.0.1', port: ports[id - 1] });
    // A loaded machine may take many seconds to start a node process; one that exits says why in its log.
    const started = Date.now();
    for (const id of [1, 2, 3]) {
      for (;;) {
        const log = readFileSync(join(root, `n${id}.log`), 'utf8');
        if (log.includes('listening')) break;
        if (nodes[id - 1].exitCode !== null || Date.now() - started > 60_000) throw new Error(`node ${id} did not start: ${log}`);
        await sleep(100);
      }
    }
    const open = (id: number, name: string, file: string) => NodeClient.open(address(id), 'hand', name, 5000, loadCredentials(tls, file));
    const apps = [await open(1, 'app', 'client-app'), await open(2, 'app', 'client-app'), await open(3, 'app', 'client-app')];
    let statuses: StatusFrame[] = [];
    const deadline = Date.now() + 10_000;
    while (!(statuses.filter((s) => s.state === 'leader').length === 1 && new Set(statuses.map((s) => s.leader)).size === 1 && statuses[0].leader !== null)) {
      if (Date.now() > deadline) throw new Error(`no leader: ${JSON.stringify(statuses)}`);
      await sleep(50);
      statuses = await Promise.all(apps.map((a) => a.status()));
    }
    expect(statuses.every((s) => s.authenticated)).toBe(true);

    // A client may not partition; an admin may.
    await expect(apps[0].admin('partition', [2])).rejects.toThrow(/only an admin certificate may partition or heal/);
    const ops = await open(1, 'ops', 'admin-ops');
    await ops.admin('partition', [2]);
    await ops.admin('heal');
    expect(readFileSync(join(root, 'n1.log'), 'utf8')).toMatch(/partitioned from 2\n.*healed/s);

    // Running the command again on the folder adds a client to the same CA: it reaches the running nodes.
    const added = coordkit('certs', '--out', tls, '--clients', 'late');
    expect(added.status).toBe(0);
    expect(added.stdout).toMatch(/^added to the CA in /);
    const late = await open(3, 'late', 'client-late');
    expect((await late.status()).node).toBe(3);
    // A certificate of another CA does not.
    expect(coordkit('certs', '--out', join(root, 'other'), '--clients', 'app').status).toBe(0);
    await expect(NodeClient.open(address(1), 'hand', 'app', 1000, loadCredentials(join(root, 'other'), 'client-app'))).rejects.toThrow();

    for (const c of [...apps, ops, late]) c.close();
    await Promise.all(nodes.map((n) => new Promise((r) => (n.once('exit', r), n.kill('SIGTERM')))));
    for (const id of [1, 2, 3]) expect(readFileSync(join(root, `n${id}.log`), 'utf8')).toMatch(/listening on .*mutual TLS\)\n[\s\S]*stopped after/);
  }, 150_000);

  it('refuses bad input with one line and exit 2', async () => {
    const caOnly = join(root, 'ca-only');
    mkdirSync(caOnly, { recursive: true });
    writeFileSync(join(caOnly, 'ca.pem'), 'not the whole CA');
    const cases: [string[], RegExp][] = [
      [['certs', '--nodes', '3'], /--out is required/],
      [['certs', '--out', join(root, 'x')], /nothing to make: give --nodes, --clients or --admins/],
      [['certs', '--out', join(root, 'x'), '--nodes', '0'], /--nodes must be from 1 to 64/],
      [['certs', '--out', join(root, 'x'), '--clients', 'a b'], /--clients: 'a b' is not a name/],
      [['certs', '--out', caOnly, '--nodes', '1'], /holds a ca\.pem without its ca\.key/],
      [['node', '--primitive', 'election', '--id', '1', '--listen', '127.0.0.1:0', '--peers', '2=127.0.0.1:1', '--data', join(root, 'd')], /a node needs --tls-dir DIR .* or --insecure/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });
});
