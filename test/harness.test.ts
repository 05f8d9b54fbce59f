/**
 * `coordkit harness` on the Python election peer of examples/python/ (written from the contract
 * alone): two Python nodes replicate a write; three Python nodes through a partition, a heal, a kill -9 of the leader and its
 * restart pass; every frame the proxies recorded validates with Python's jsonschema; the wire
 * replay catches a frame changed after the fact; bad input is one line and exit 2. Needs
 * `npx tsc -p .` first.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { protocols } from '../machines/index.js';
import { replayWire } from '../src/harness/wire-replay.js';
import type { WireRecord } from '../src/harness/wire-record.js';
import { harnessCommand } from '../src/cli/harness.js';
import { UsageError } from '../src/cli/usage-error.js';
import { validateScript } from '../src/runtime/cluster-script.js';
import { BIN, FIXTURES, harness, peerCommand, PYTHON, ROOT } from './harness-helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'coordkit-harness-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const election = protocols.find((p) => p.name === 'election')!;

describe('coordkit harness with the Python election peer', () => {
  const out = join(tmp, 'python');
  let wire: WireRecord[] = [];

  it('passes three Python nodes through a partition, a heal, a kill -9 of the leader and its restart', () => {
    const r = harness(['election', '--nodes', '3', '--cmd', peerCommand('peer.py'), '--script', join(FIXTURES, 'election-faults.json'), '--out', out, '--timeout', '80']);
    expect(r.stderr).toBe('');
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/1,2,3 run `.*peer\.py/);
    expect(r.stdout).toMatch(/kill -9 node \d/);
    expect(r.stdout).toMatch(/restart node \d/);
    expect(r.stdout).toMatch(/conformance: every frame, note and answer of every node is explained/);
    expect(r.stdout).toMatch(/ok +one vote per node per term/);
    expect(r.stdout).toMatch(/PASS for this run: .* \(one run, not a proof\)$/m);
    wire = readFileSync(join(out, 'wire.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const lost = wire.filter((w) => w.kind === 'send' && w.fate === 'partition').length;
    expect(lost).toBeGreaterThan(0);
    expect(wire.filter((w) => w.kind === 'answer').length).toBe(2);
  });

  it('passes two Python nodes electing a leader and replicating a write', () => {
    const script = join(tmp, 'two.json');
    writeFileSync(script, JSON.stringify({ steps: [{ await: { match: { state: 'leader' }, count: 1, timeoutMs: 5000 } }, { client: { state: 'leader' }, request: { type: 'client.set', value: 'two' } }, { awaitNotes: { type: 'synced', count: 1, timeoutMs: 5000 } }, { client: 'all', request: { type: 'client.get' } }, { sleep: 200 }] }));
    const r = harness(['election', '--nodes', '2', '--cmd', peerCommand('peer.py'), '--script', script, '--out', join(tmp, 'two'), '--timeout', '60']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/"value":"two"/);
    expect(r.stdout).toMatch(/PASS for this run/);
  });

  it("validates every frame the proxies recorded with Python's jsonschema (and refuses a bad one)", () => {
    expect(wire.length).toBeGreaterThan(0);
    const frames = wire.flatMap((w) =>
      w.kind === 'send' ? [{ type: 'peer', from: w.node, to: w.to, msg: w.msg }] : w.kind === 'note' ? [{ type: 'note', node: w.node, note: w.note }] : [],
    );
    const lines = frames.map((frame) => JSON.stringify({ primitive: 'election', frame, valid: true }));
    lines.push(JSON.stringify({ primitive: 'election', frame: { type: 'peer', from: 1, to: 2, msg: { type: 'vote', term: -1, granted: true } }, valid: false }));
    const file = join(tmp, 'frames.ndjson');
    writeFileSync(file, lines.join('\n') + '\n');
    const r = spawnSync(PYTHON, [join(__dirname, 'validate-frames.py'), join(ROOT, 'schemas'), file], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`${frames.length} frames accepted, 1 bad frames refused, 0 failures`));
    expect(frames.length).toBeGreaterThan(50);
  });

  it('the wire replay does not explain the same run with one vote changed', () => {
    const variant = election.variants.find((v) => v.name === election.defaultVariant)!;
    const i = wire.findIndex((w) => w.kind === 'send' && w.msg.type === 'vote' && w.msg.granted === true && w.msg.term === 1);
    expect(i).toBeGreaterThan(0);
    const tampered = wire.map((w, j) => (j === i && w.kind === 'send' ? { ...w, msg: { ...w.msg, granted: false } } : w));
    const { divergences } = replayWire(election, variant, 3, tampered);
    expect(divergences.map((d) => d.node)).toEqual([(wire[i] as { node: number }).node]);
    expect(divergences[0].what).toMatch(/^(sent|noted) /);
  });

  it('refuses bad input with one line and exit 2', async () => {
    const r = harness(['election', '--nodes', '3', '--cmd', 'x {port} {nope}']);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^coordkit: --cmd: unknown placeholder \{nope\} in the command template \(known: .*\)\n$/);
    const cases: [string[], RegExp][] = [
      [['election', '--cmd', 'x {id}'], /^give --nodes N$/],
      [['election', '--nodes', '3', '--cmd', 'x "unclosed'], /unclosed "/],
      [['election', '--nodes', '3', '--ours', '4', '--cmd', 'x'], /--ours lists node ids from 1 to 3, got '4'/],
      [['election', '--nodes', '3'], /give --cmd "TEMPLATE"/],
      [['election', '--nodes', '3', '--cmd', 'sh {id}', '--script', join(FIXTURES, 'nope.json')], /cannot read --script/],
      [['election', '--nodes', '3', '--cmd', 'nosuchbinary {id}'], /^--cmd: nosuchbinary is not an executable file on PATH$/],
    ];
    for (const [args, message] of cases) {
      await expect(harnessCommand(args)).rejects.toThrow(UsageError);
      await expect(harnessCommand(args)).rejects.toThrow(message);
    }
    // coordkit cluster has no proxies: its scripts may not delay or drop.
    const raw = JSON.parse(readFileSync(join(FIXTURES, 'split-votes.json'), 'utf8'));
    expect(() => validateScript(raw, 3)).toThrow(/step 1 \(delay\): only coordkit harness, whose links run through proxies, delays or drops frames/);
    expect(validateScript(raw, 3, { proxied: true }).steps).toHaveLength(4);
  });
});
