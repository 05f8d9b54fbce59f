/**
 * A node machine's state diagram shows every transition: each edge of @xstate/graph's
 * `toDirectedGraph` and each eventless (`always`) transition, which that graph leaves out; and
 * parsed and rendered by Mermaid in headless Chromium, every label is drawn and no two labels overlap.
 */
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { toDirectedGraph, type DirectedGraphNode } from '@xstate/graph';
import type { AnyStateMachine } from 'xstate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { protocols } from '../machines/index.js';
import twoPhaseCommit from '../examples/two-phase-commit/index.js';
import tokenRing from '../fixtures/user-project/src/protocol.js';
import { mermaidBundle } from '../src/report/write-report.js';
import { stateDiagram } from '../src/trace/state-diagram.js';
import { releaseBrowser, sharedBrowser } from './shared-browser.js';

const machines: { name: string; machine: AnyStateMachine }[] = [];
for (const p of [...protocols, twoPhaseCommit, tokenRing]) {
  const seen = new Set<AnyStateMachine>();
  for (const v of p.variants) if (!seen.has(v.machine)) seen.add(v.machine), machines.push({ name: `${p.name} ${v.name}`, machine: v.machine });
}

interface Expected {
  source: string;
  target?: string;
  label: string;
}

/** The transitions the diagram must show, read off the machine independently of the renderer. */
function expectedTransitions(machine: AnyStateMachine): Expected[] {
  const graph = toDirectedGraph(machine);
  const id = (stateId: string) => (stateId === graph.id ? 'any_state' : stateId.slice(graph.id.length + 1).replace(/\W/g, '_'));
  const label = (t: { eventType: string; guard?: unknown }) => {
    const event = t.eventType === '' ? 'always' : t.eventType.startsWith('xstate.after.') ? `after ${t.eventType.split('.')[2]} ms` : t.eventType;
    const g = t.guard as { type?: string; name?: string } | string | undefined;
    const guard = typeof g === 'string' ? g : g && (g.type ?? (g.name || 'guard'));
    return guard ? `${event} [${guard}]` : event;
  };
  const out: Expected[] = [];
  const visit = (node: DirectedGraphNode) => {
    for (const e of node.edges) {
      const t = e.transition as unknown as { eventType: string; guard?: unknown; target?: unknown[] };
      out.push({ source: id(e.source.id), target: t.target?.length ? id(e.target.id) : undefined, label: label(t) });
    }
    for (const t of node.stateNode.always ?? []) {
      const targets = t.target?.length ? t.target.map((s) => id(s.id)) : [undefined];
      for (const target of targets) out.push({ source: id(node.id), target, label: label(t as never) });
    }
    node.children.forEach(visit);
  };
  visit(graph);
  return out;
}

/** The diagram's arrows (`A --> B: l1<br/>l2`) and the transitions listed inside states (`A : l`). */
function drawn(text: string): { arrows: Map<string, string[]>; inside: Map<string, string[]> } {
  const arrows = new Map<string, string[]>();
  const inside = new Map<string, string[]>();
  for (const line of text.split('\n').map((l) => l.trim())) {
    let m = /^(\w+) --> (\w+): (.*)$/.exec(line);
    if (m) arrows.set(`${m[1]}->${m[2]}`, m[3].split('<br/>'));
    else if ((m = /^(\w+) : (.*)$/.exec(line))) inside.set(m[1], [...(inside.get(m[1]) ?? []), m[2]]);
  }
  return { arrows, inside };
}

describe('node state diagrams show every transition', () => {
  it.each(machines.map((m) => [m.name, m.machine] as const))('%s', (_name, machine) => {
    const text = stateDiagram(machine);
    const { arrows, inside } = drawn(text);
    const expected = expectedTransitions(machine);
    for (const t of expected) {
      if (t.target === undefined) expect(inside.get(t.source) ?? [], `${t.source}: ${t.label}`).toContain(t.label);
      else expect(arrows.get(`${t.source}->${t.target}`) ?? [], `${t.source} --> ${t.target}: ${t.label}`).toContain(t.label);
    }
    // Nothing drawn that the machine does not have.
    const labels = new Set(expected.map((t) => `${t.source}->${t.target ?? ''}: ${t.label}`));
    for (const [arrow, ls] of arrows) for (const l of ls) expect(labels.has(`${arrow}: ${l}`), `${arrow}: ${l}`).toBe(true);
    for (const [state, ls] of inside) for (const l of ls) expect(labels.has(`${state}->: ${l}`), `${state}: ${l}`).toBe(true);
    // One arrow per pair of states (so at most one self-loop a state), its events one label line each.
    const pairs = text.split('\n').filter((l) => / --> \w+: /.test(l)).map((l) => l.split(':')[0].trim());
    expect(new Set(pairs).size).toBe(pairs.length);
  });

  it('includes the eventless transitions of mutex and consensus', () => {
    const text = (name: string) => stateDiagram(protocols.find((p) => p.name === name)!.variants[0].machine);
    expect(text('mutex')).toContain('boot --> recovering: always [restarted]');
    expect(text('mutex')).toContain('recovering --> idle: always [recovered]');
    expect(text('consensus')).toContain('start --> idle: always');
    expect(text('consensus')).toContain('proposing --> committing: always [enoughPromises]');
  });
});

describe('rendered in headless Chromium', () => {
  type Rendered = { name: string; error?: string; text: string; labels: { text: string; box: number[] }[]; nodes: number[][] };
  let rendered: Rendered[] = [];
  const page = (texts: string[]) => `<!doctype html><html><body><div id="out"></div><script src="mermaid.min.js"></script><script>
mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });
(async () => {
  const results = [];
  const box = (el) => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  for (const [i, text] of ${JSON.stringify(texts).replace(/</g, '\\u003c')}.entries()) {
    const el = document.createElement('div');
    document.getElementById('out').append(el);
    try {
      await mermaid.parse(text);
      el.innerHTML = (await mermaid.render('d' + i, text)).svg;
      results.push({
        text: el.querySelector('svg').textContent,
        labels: [...el.querySelectorAll('g.edgeLabel')].filter((l) => l.textContent.trim()).map((l) => ({ text: l.textContent.trim(), box: box(l) })),
        nodes: [...el.querySelectorAll('g.node')].map(box),
      });
    } catch (err) { results.push({ error: String(err && err.message || err) }); }
  }
  window.results = results;
})();
</script></body></html>`;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coordkit-state-diagrams-'));
    copyFileSync(mermaidBundle(), join(dir, 'mermaid.min.js'));
    writeFileSync(join(dir, 'index.html'), page(machines.map((m) => stateDiagram(m.machine, m.name))));
    const browser = await sharedBrowser();
    const tab = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await tab.goto(pathToFileURL(join(dir, 'index.html')).href);
    await tab.waitForFunction(() => (window as unknown as { results?: unknown }).results, undefined, { timeout: 60_000 });
    const results = (await tab.evaluate(() => (window as unknown as { results: Rendered[] }).results)) as Rendered[];
    rendered = results.map((r, i) => ({ ...r, name: machines[i].name }));
    await tab.close();
  }, 150_000);
  afterAll(releaseBrowser);

  const overlap = (a: number[], b: number[]) => a[0] < b[2] - 1 && b[0] < a[2] - 1 && a[1] < b[3] - 1 && b[1] < a[3] - 1;

  it('renders every diagram, with every transition label drawn', () => {
    expect(rendered).toHaveLength(machines.length);
    for (const [i, r] of rendered.entries()) {
      expect(r.error, r.name).toBeUndefined();
      const svgText = r.text.replace(/\s+/g, ' ');
      for (const t of expectedTransitions(machines[i].machine)) expect(svgText, `${r.name}: ${t.label}`).toContain(t.label);
      // One drawn label for each arrow of the text: none dropped, none split.
      expect(r.labels, r.name).toHaveLength(drawn(stateDiagram(machines[i].machine)).arrows.size);
    }
  });

  it('draws no label over another label or over a state', () => {
    const clashes: string[] = [];
    for (const r of rendered) {
      r.labels.forEach((a, i) => {
        r.labels.slice(i + 1).forEach((b) => overlap(a.box, b.box) && clashes.push(`${r.name}: '${a.text}' over '${b.text}'`));
        r.nodes.forEach((n) => overlap(a.box, n) && clashes.push(`${r.name}: '${a.text}' over a state`));
      });
    }
    expect(clashes).toEqual([]);
  });
});
