/**
 * A run is its URL: the links `coordkit check --explore-link` prints, and the walk replay
 * commands' seed and path, open the run the checker found, down to the violating step.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { explore } from '../src/check/explore.js';
import { createModel, type Model } from '../src/check/model.js';
import { walk } from '../src/check/walk.js';
import { protocols } from '../machines/index.js';
import { exploreLink } from '../src/viewer/explore-link.js';
import { modelFromQuery, modelQuery } from '../src/viewer/model-query.js';
import { parsePath, runView } from '../src/viewer/run-view.js';
import { startViewer, type Viewer } from '../src/viewer/server.js';

const primitive = (name: string) => protocols.find((p) => p.name === name)!;
const viewers: Viewer[] = [];
afterAll(() => Promise.all(viewers.map((v) => v.close())));

/** The verdict of `property` at the end of `path`, and the step where it first failed. */
function endOf(model: Model, path: number[], property: string) {
  const view = runView(model, path);
  expect(view.error).toBeUndefined();
  return view.properties.find((p) => p.name === property)!;
}

describe('explore links', () => {
  it("an explore counterexample's link names the same model and ends where the property first fails", () => {
    const model = createModel(primitive('mutex'), { variant: 'no-reply-wait', params: { requests: 2 } });
    const v = explore(model).violations[0];
    const { url } = exploreLink('mutex', model, v.path);
    const q = new URL(url).searchParams;
    const again = modelFromQuery(model.protocol, {}, q);
    expect(again.config).toEqual(model.config);
    expect(parsePath(q.get('path'))).toEqual(v.path);
    const verdict = endOf(again, v.path, v.invariant);
    expect(verdict.verdict).toBe('violated');
    expect(verdict.firstViolatedAt).toBe(v.path.length);
  });

  it('a walk counterexample replays from its indices, and from the seed and fast-check path of its replay command', async () => {
    const model = createModel(primitive('election'), { variant: 'vote-twice' });
    const w = walk(model, { runs: 200, seed: 7, safetyOnly: true });
    const v = w.violations[0];
    expect(v.path.every((i) => i >= 0)).toBe(true);
    expect(endOf(model, v.path, v.invariant).verdict).toBe('violated');
    const viewer = await startViewer({ protocols: [model.protocol], defaults: {}, port: 0 });
    viewers.push(viewer);
    const res = await fetch(`${viewer.url}api/run?${modelQuery(model)}&seed=${v.seed}&walk=${v.counterexamplePath}`);
    expect(res.status).toBe(200);
    expect((await res.json()).path).toEqual(v.path);
    const bad = await fetch(`${viewer.url}api/run?${modelQuery(model)}&walk=1:2`);
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatch(/a walk path needs the walk's seed/);
  });

  it("the machine's state diagram marks the states the nodes are in", () => {
    const model = createModel(primitive('election'));
    expect(runView(model, []).stateDiagram).toMatch(/\n    class follower here$/);
    const view = runView(model, [0]);
    expect(view.cards.map((c) => c.state)).toEqual(['precandidate', 'follower', 'follower']);
    expect(view.stateDiagram).toMatch(/\n    class precandidate,follower here$/);
  });

  it('a choice index that is not enabled stops the run there, with a message naming the step', () => {
    const model = createModel(primitive('election'));
    const view = runView(model, [0, 500, 1]);
    expect(view.error).toMatch(/^step 2: choice 500 is not enabled \(this world enables \d+: 0 to \d+\); showing the run up to step 1$/);
    expect(view.path).toEqual([0]);
    expect(() => parsePath('1:-2')).toThrow(/malformed path '1:-2'/);
  });

  it('`coordkit check --explore-link` prints the link beside the replay command', () => {
    const r = spawnSync('node', ['bin/coordkit.js', 'check', 'election', '--variant', 'vote-twice', '--mode', 'explore', '--explore-link'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status).toBe(1);
    const line = r.stdout.split('\n').find((l) => l.startsWith('explore: '))!;
    expect(line).toMatch(/^explore: coordkit explore election, then open http:\/\/127\.0\.0\.1:4820\/\?protocol=election&variant=vote-twice&nodes=3&network=unordered&faults=none&path=\d+(:\d+)*$/);
    const model = createModel(primitive('election'), { variant: 'vote-twice' });
    const path = parsePath(new URL(line.split(' then open ')[1]).searchParams.get('path'));
    expect(endOf(model, path, 'one vote per node per term').firstViolatedAt).toBe(path.length);
  });
});
