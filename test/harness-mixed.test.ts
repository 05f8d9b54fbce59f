/**
 * `coordkit harness` mixing our nodes with a Python one (3 nodes: 1,2 ours, 3 the Python peer of
 * examples/python/) through a partition, a heal and a kill -9 and restart of a Python node; and
 * the deliberately wrong Python peer (it grants a second vote in a term) caught, naming the
 * divergence and the property, with the diagram of the run up to it. Needs `npx tsc -p .` first.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, harness, peerCommand } from './harness-helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'coordkit-harness-mixed-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));


describe('coordkit harness, mixed and wrong', () => {
  it('passes two TypeScript nodes and a Python one through a partition, a heal, a kill -9 and a restart', () => {
    const r = harness(['election', '--nodes', '3', '--ours', '1,2', '--cmd', peerCommand('peer.py'), '--script', join(FIXTURES, 'election-mixed.json'), '--out', join(tmp, 'mixed'), '--timeout', '80']);
    expect(r.stderr).toBe('');
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/3 nodes: 3 run `.*peer\.py.*`; 1,2 run coordkit node/);
    expect(r.stdout).toMatch(/partition \{1,2\}\|\{3\}/);
    expect(r.stdout).toMatch(/kill -9 node 3/);
    expect(r.stdout).toMatch(/PASS for this run/);
  });

  it('fails the wrong peer, naming the divergence and the property, with the diagram up to it', () => {
    // Every node runs the wrong peer; links are slowed so that candidates overlap. The bug needs
    // two candidates asking in one term, a race that one run on a loaded machine may miss: a run
    // that misses it must pass (the peer is otherwise correct), and a later one must catch it. A
    // run may also end at an earlier divergence, where the replay's bounded search does not
    // explain the order in which the slowed links delivered (README, "coordkit harness"), or
    // fail on the notes alone with every frame explained (seen once: *leader had a majority*
    // over the observed notes, a voter's `voted` note never observed: one that came with the node's hello was not handed to
    // the harness, now mended, README): it fails, and the next
    // seed is tried; one of three must catch the second vote.
    const caught = /^DIVERGENCE node \d: sent \{"granted":true,"term":\d+,"type":"vote"\} to node \d; the model's next message to node \d here is \{"granted":false/m;
    let r!: ReturnType<typeof harness>;
    for (let attempt = 1; attempt <= 3; attempt++) {
      r = harness(['election', '--nodes', '3', '--cmd', peerCommand('wrong_peer.py'), '--script', join(FIXTURES, 'split-votes.json'), '--out', join(tmp, `wrong-${attempt}`), '--timeout', '80', '--seed', String(attempt)]);
      expect(r.stderr).toBe('');
      if (r.status === 0) expect(r.stdout).toMatch(/PASS for this run/);
      else expect(r.stdout).toMatch(/^DIVERGENCE node \d: |^  VIOLATED .* \(over the observed notes\)$/m);
      if (caught.test(r.stdout)) break;
    }
    expect(r.status, r.stdout).toBe(1);
    expect(r.stdout).toMatch(caught);
    expect(r.stdout).toMatch(/VIOLATED one vote per node per term \(over the observed notes\)/);
    expect(r.stdout).toMatch(/the run up to the first divergence:\n```mermaid\nsequenceDiagram/);
    expect(r.stdout).toMatch(/Note over N\d: DIVERGENCE/);
    expect(r.stdout).toMatch(/^FAIL$/m);
  }, 300_000);
});
