/**
 * `coordkit conform` on the traces of a real run: they conform; a node that sent something the
 * machine would not (a tampered trace, as a foreign node that gets a rule wrong would write) is
 * a divergence, printed with the trace up to it; bad input is one line and exit 2. Needs
 * `npx tsc -p .` first.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { protocols } from '../machines/index.js';

const dir = mkdtempSync(join(tmpdir(), 'coordkit-conform-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const coordkit = (args: string[], timeout = 60_000) => spawnSync(process.execPath, [join(__dirname, '..', 'bin', 'coordkit.js'), ...args], { encoding: 'utf8', timeout });

describe.runIf(protocols.some((p) => p.name === 'election'))('coordkit conform', () => {
  const run = join(dir, 'run');
  const traces = (folder: string) => [1, 2, 3].flatMap((id) => ['--trace', join(folder, `node-${id}`, 'trace.ndjson')]);

  it('passes the traces of a real run, and finds the node whose trace says it sent what the machine would not', () => {
    const cluster = coordkit(['cluster', 'election', '--nodes', '3', '--out', run], 100_000);
    expect(cluster.status, cluster.stdout + cluster.stderr).toBe(0);
    const good = coordkit(['conform', 'election', ...traces(run)]);
    expect(good.stderr).toBe('');
    expect(good.status, good.stdout).toBe(0);
    expect(good.stdout).toMatch(/conformance: every node did what the pure machine does/);
    expect(good.stdout).toMatch(/ok +one vote per node per term/);
    expect(good.stdout.trim().split('\n').pop()).toBe('CONFORMS');

    // A node that answered a (pre-)vote request claims the opposite answer to the one its machine
    // gives. Which nodes answered depends on who timed out first, so take the first that did.
    const isVote = (s: { msg: { type: string } }) => ['vote', 'pre_vote'].includes(s.msg.type);
    const answered = [1, 2, 3].map((id) => {
      const file = join(run, `node-${id}`, 'trace.ndjson');
      const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      return { id, file, lines, target: lines.find((r) => r.sends?.some(isVote)) };
    }).find((n) => n.target);
    expect(answered, 'some node answered a (pre-)vote request').toBeDefined();
    const { id, file, lines, target } = answered!;
    const send = target.sends.find(isVote);
    send.msg.granted = !send.msg.granted;
    writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const bad = coordkit(['conform', 'election', ...traces(run)]);
    expect(bad.status, bad.stdout + bad.stderr).toBe(1);
    expect(bad.stdout).toMatch(new RegExp(`DIVERGENCE node ${id} record ${target.seq}: `));
    expect(bad.stdout).toMatch(/the trace up to the first divergence:\n```mermaid\nsequenceDiagram/);
    expect(bad.stdout.trim().split('\n').pop()).toBe('DOES NOT CONFORM');
  }, 200_000);

  it('refuses bad input in one line with exit 2', () => {
    const garbage = join(dir, 'garbage.ndjson');
    writeFileSync(garbage, 'not json\n{"also": "not"}\n');
    const notRecord = join(dir, 'not-record.ndjson');
    writeFileSync(notRecord, '{"hello": 1}\n');
    for (const [args, message] of [
      [['conform', 'election'], /^coordkit: give at least one --trace FILE/],
      [['conform', 'election', '--trace', join(dir, 'missing.ndjson')], /^coordkit: no trace file .*missing\.ndjson/],
      [['conform', 'election', '--trace', garbage], /^coordkit: .*garbage\.ndjson:1: not a trace record/],
      [['conform', 'election', '--trace', notRecord], /^coordkit: .*not-record\.ndjson: record 1 is not a trace record/],
      [['conform', 'no-such', '--trace', garbage], /^coordkit: /],
    ] as const) {
      const r = coordkit([...args]);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
