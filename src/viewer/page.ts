/**
 * The browser explorer's page: one self-contained HTML document (its script inline, Mermaid
 * served beside it from node_modules). Everything it shows comes from the server's `/api/run`;
 * the page only draws it and turns clicks and keys into a new run, which it keeps in its URL.
 * When a drawing is finished the page sets `data-ready` on <body> (the run and step shown), so
 * a headless browser knows when to look.
 */
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const STYLE = `
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#f6f7f9}
header{background:#1f2937;color:#fff;padding:.5em 1em;display:flex;flex-wrap:wrap;gap:.4em 1.2em;align-items:baseline}
header h1{font-size:17px;margin:0}
header .model{opacity:.85}
#error{display:none;background:#fde8e8;color:#8a1111;border:1px solid #f5b5b5;padding:.6em 1em;margin:.6em 1em;border-radius:4px}
#error.shown{display:block}
main{display:grid;grid-template-columns:minmax(260px,340px) minmax(0,1fr);gap:1em;padding:1em}
main>div{min-width:0}
@media (max-width:800px){main{grid-template-columns:1fr}}
section{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:.6em .8em;margin-bottom:1em;min-width:0}
h2{font-size:14px;margin:.1em 0 .5em;text-transform:uppercase;letter-spacing:.04em;color:#555}
.toolbar{display:flex;flex-wrap:wrap;gap:.4em;align-items:center}
button{font:inherit;cursor:pointer;border:1px solid #b9c0c9;background:#fff;border-radius:4px;padding:.2em .6em}
button:hover:not(:disabled){background:#eef3ff}
button:disabled{opacity:.45;cursor:default}
#choices{list-style:none;margin:0;padding:0;max-height:55vh;overflow:auto}
#choices li{margin:.2em 0}
#choices button{width:100%;text-align:left;font-family:ui-monospace,monospace;font-size:12.5px;white-space:normal;word-break:break-word}
kbd{display:inline-block;min-width:1.6em;text-align:center;background:#eef0f3;border:1px solid #ccd;border-radius:3px;font-size:11px;margin-right:.4em}
.kind-crash,.kind-drop,.kind-partition{border-left:4px solid #d9534f}.kind-deliver{border-left:4px solid #4a7bd0}
.kind-timer{border-left:4px solid #e0a100}.kind-client{border-left:4px solid #3a9d5d}.kind-restart,.kind-heal,.kind-duplicate{border-left:4px solid #8a6bd1}
#cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:.6em}
.card{border:1px solid #cfd5dc;border-radius:6px;padding:.4em .6em;background:#fbfcfd;min-width:0}
.card.down{background:#f1f1f1;color:#777;border-style:dashed}
.card h3{margin:0 0 .2em;font-size:14px;display:flex;justify-content:space-between}
.state{font-family:ui-monospace,monospace;background:#e7efff;border-radius:3px;padding:0 .3em}
.card table{border-collapse:collapse;width:100%;font-size:12px}
.card td{padding:1px 3px;vertical-align:top;border-top:1px solid #eceff2}.card td:first-child{white-space:nowrap}
.card td.v{font-family:ui-monospace,monospace;word-break:break-all}
.durable{color:#7a4b00;font-weight:600}
.timers{font-size:12px;color:#6a5300;margin-top:.2em}
.mono{font-family:ui-monospace,monospace;font-size:12.5px}
#props{border-collapse:collapse;width:100%}
#props td{padding:2px 6px;border-top:1px solid #eceff2}
tr.holds td.v{color:#1d7a3a}tr.violated{background:#fde8e8}tr.violated td.v{color:#b00020;font-weight:700}
tr.not-judged td.v,tr.pending td.v{color:#777}tr.satisfied td.v{color:#1d7a3a}
#steps{margin:0;padding-left:2.4em;max-height:30vh;overflow:auto;font-family:ui-monospace,monospace;font-size:12.5px}
#steps li{cursor:pointer}#steps li.future{color:#999}#steps li.current{background:#fff3c4;font-weight:600}
#steps li.fails{color:#b00020}.fail-mark{font-weight:700}
#diagram{overflow:auto;max-height:70vh}
#diagram svg{max-width:none!important}
#states{overflow:auto}
.muted{color:#777}
`;

/** Runs in the page. */
const SCRIPT = `
const $ = (id) => document.getElementById(id);
const MODEL_KEYS = ['protocol', 'variant', 'nodes', 'network', 'faults', 'params'];
let view = null;
let busy = false;
// Mermaid (from the explorer server) loads when the first diagram is drawn: the world, or an
// error, shows without waiting for it, and without it the diagrams say why they are missing.
let diagramsReady;
function loadDiagrams() {
  diagramsReady ??= new Promise((resolve) => {
    const script = h('script', { src: '/mermaid.min.js' });
    script.onload = () => {
      window.mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', sequence: { useMaxWidth: false } });
      resolve(window.mermaid);
    };
    script.onerror = () => resolve(null);
    document.head.append(script);
  });
  return diagramsReady;
}
async function draw(id, text) {
  const m = await loadDiagrams();
  if (!m) throw new Error('mermaid.min.js did not load from the explorer server');
  return m.render(id, text);
}
// The state diagram changes only when the states nodes are in do; it is drawn again only then.
let statesShown = null;

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) el.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}

function showError(message) {
  const box = $('error');
  box.textContent = message || '';
  box.classList.toggle('shown', !!message);
  document.body.dataset.error = message || '';
}

/** The URL's query for a run: the model's fields kept, the path and step replaced. */
function queryFor(path, at) {
  const q = new URLSearchParams(location.search);
  const out = new URLSearchParams();
  for (const k of MODEL_KEYS) if (q.has(k)) out.set(k, q.get(k));
  if (view) {
    out.set('protocol', view.protocol); out.set('variant', view.variant); out.set('nodes', String(view.nodes));
    out.set('network', view.network); out.set('faults', view.faults.join(',') || 'none');
  }
  let s = out.toString();
  if (path.length) s += '&path=' + path.join(':');
  if (at !== undefined && at < path.length) s += '&at=' + at;
  return s;
}

async function getJson(url) {
  let res;
  try { res = await fetch(url); } catch (err) { throw new Error('the explorer server does not answer (is coordkit explore still running?)'); }
  let body;
  try { body = await res.json(); } catch { throw new Error('the explorer server answered ' + res.status + ' without a result'); }
  if (!res.ok || body.error && !body.cards) throw new Error(body.error || ('server error ' + res.status));
  return body;
}

async function load(search) {
  if (busy) return;
  busy = true;
  delete document.body.dataset.ready;
  try {
    const next = await getJson('/api/run?' + search.replace(/^\\?/, ''));
    view = next;
    showError(view.error);
    history.replaceState(null, '', '?' + queryFor(view.path, view.at));
    await render();
  } catch (err) {
    showError(String(err && err.message || err));
    if (!view) $('model').textContent = 'no run shown';
  } finally {
    busy = false;
    document.body.dataset.ready = view ? view.path.join(':') + '@' + view.at : 'error';
  }
}

const go = (path, at) => load(queryFor(path, at));
const take = (index) => view && go(view.path.slice(0, view.at).concat(index));
const moveTo = (at) => view && at >= 0 && at <= view.path.length && at !== view.at && go(view.path, at);

async function randomSteps(until) {
  if (!view || busy) return;
  const seed = $('seed').value.trim() || '1';
  try {
    const r = await getJson('/api/random?' + queryFor(view.path, view.at) + '&seed=' + encodeURIComponent(seed) + (until ? '&until=quiescent' : ''));
    await go(r.path);
  } catch (err) { showError(String(err && err.message || err)); }
}

function value(v) {
  const s = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v);
  return s === undefined ? 'undefined' : s.length > 160 ? s.slice(0, 157) + '...' : s;
}

async function render() {
  const v = view;
  document.title = 'coordkit explore ' + v.protocol;
  $('model').textContent = v.protocol + ' · variant ' + v.variant + ' · ' + v.nodes + ' nodes · ' + v.network + ' network · faults ' + (v.faults.join(',') || 'none');
  $('position').textContent = 'step ' + v.at + ' of ' + v.path.length + (v.quiescent ? ' · quiescent' : '') + (v.pastBound ? " · past the checker's bounds" : '');
  $('undo').disabled = v.at === 0;
  $('redo').disabled = v.at >= v.path.length;
  $('link').href = '?' + queryFor(v.path, v.at);

  $('choices').replaceChildren(...v.choices.map((c, i) => h('li', {},
    h('button', { class: 'kind-' + c.kind, 'data-choice': String(c.index), title: 'choice ' + c.index, onclick: () => take(c.index) },
      i < 10 ? h('kbd', {}, String((i + 1) % 10)) : null, c.label))));
  if (!v.choices.length) $('choices').append(h('li', { class: 'muted' }, 'nothing is enabled'));

  $('cards').replaceChildren(...v.cards.map((c) => h('div', { class: 'card' + (c.up ? '' : ' down'), 'data-node': String(c.id) },
    h('h3', {}, h('span', {}, 'Node ' + c.id), h('span', { class: 'state', 'data-state': c.state }, c.up ? c.state : 'down')),
    h('table', {}, c.fields.map((f) => h('tr', {},
      h('td', { class: f.durable ? 'durable' : '', title: f.durable ? 'durable: survives a crash' : 'lost on a crash' }, f.name + (f.durable ? ' ◆' : '')),
      h('td', { class: 'v' }, value(f.value))))),
    c.timers.length ? h('div', { class: 'timers' }, 'timers: ' + c.timers.join(', ')) : null)));

  const net = [];
  net.push(h('div', {}, 'partition: ', v.partition ? h('strong', {}, v.partition) : h('span', { class: 'muted' }, 'none')));
  if (v.budgets.length) net.push(h('div', {}, 'fault budgets left: ' + v.budgets.map((b) => b.fault + ' ' + b.left + '/' + b.of).join(', ')));
  else net.push(h('div', { class: 'muted' }, 'no faults injected'));
  if (!v.channels.length) net.push(h('div', { class: 'muted' }, 'no message in flight'));
  for (const ch of v.channels) net.push(h('div', { class: 'mono' }, h('strong', {}, ch.from + ' → ' + ch.to + ': '), ch.messages.join(' · ')));
  $('network').replaceChildren(...net);

  $('props').replaceChildren(...v.properties.map((p) => {
    let cls, text;
    if (p.kind === 'sometimes') {
      cls = p.satisfiedAt !== undefined ? 'satisfied' : 'pending';
      text = p.satisfiedAt !== undefined ? 'satisfied at step ' + p.satisfiedAt : 'not yet satisfied in this run';
    } else if (p.verdict === 'violated') {
      cls = 'violated';
      text = 'VIOLATED' + (p.firstViolatedAt !== undefined ? ' (first at step ' + p.firstViolatedAt + ')' : '');
    } else if (p.verdict === 'not judged') {
      cls = 'not-judged';
      text = 'judged only when quiescent';
    } else {
      cls = 'holds';
      text = 'holds' + (p.firstViolatedAt !== undefined ? ' (violated at step ' + p.firstViolatedAt + ')' : '');
    }
    return h('tr', { class: cls, 'data-property': p.name, 'data-verdict': cls }, h('td', {}, p.kind), h('td', {}, p.name), h('td', { class: 'v' }, text));
  }));

  // Each step where a property first fails names it.
  const fails = new Map();
  for (const p of v.properties) if (p.firstViolatedAt !== undefined) fails.set(p.firstViolatedAt, [...(fails.get(p.firstViolatedAt) || []), p.name]);
  const failMark = (i) => fails.has(i) ? h('span', { class: 'fail-mark' }, ' ✗ ' + fails.get(i).join(', ')) : null;
  const steps = [h('li', { value: '0', class: [v.at === 0 ? 'current' : '', fails.has(0) ? 'fails' : ''].join(' ').trim(), onclick: () => moveTo(0) }, 'initial world', failMark(0))];
  v.steps.forEach((s, i) => steps.push(h('li', { value: String(i + 1), 'data-step': String(i + 1), class: [i + 1 === v.at ? 'current' : '', i + 1 > v.at ? 'future' : '', fails.has(i + 1) ? 'fails' : ''].join(' ').trim(), onclick: () => moveTo(i + 1) }, s, failMark(i + 1))));
  $('steps').replaceChildren(...steps);
  $('steps').querySelector('.current')?.scrollIntoView({ block: 'nearest' });

  const here = v.cards.filter((c) => c.up).map((c) => 'Node ' + c.id + ': ' + c.state).join(' · ');
  $('states-caption').textContent = 'highlighted: the states nodes are in (' + (here || 'every node is down') + ')';
  if (v.stateDiagram !== statesShown) {
    try {
      const { svg } = await draw('states' + Date.now(), v.stateDiagram);
      $('states').innerHTML = svg;
      statesShown = v.stateDiagram;
    } catch (err) {
      $('states').replaceChildren(h('pre', {}, 'diagram failed: ' + String(err && err.message || err).split('\\n')[0]));
      statesShown = null;
    }
  }

  const box = $('diagram');
  if (v.at === 0) box.replaceChildren(h('p', { class: 'muted' }, 'take a choice to start the sequence diagram'));
  else {
    try {
      const { svg } = await draw('seq' + Date.now(), v.diagram);
      box.innerHTML = svg;
      // The newest step is the one to see.
      box.scrollTop = box.scrollHeight;
    } catch (err) {
      box.replaceChildren(h('pre', {}, 'diagram failed: ' + String(err && err.message || err).split('\\n')[0]), h('pre', {}, v.diagram));
    }
  }
}

document.addEventListener('keydown', (e) => {
  if (e.target && (e.target.tagName === 'INPUT' || e.altKey || e.ctrlKey || e.metaKey)) return;
  if (/^[0-9]$/.test(e.key) && view) {
    const i = (Number(e.key) + 9) % 10;
    const c = view.choices[i];
    if (c) { e.preventDefault(); take(c.index); }
  } else if (e.key === 'ArrowLeft' && view) { e.preventDefault(); moveTo(view.at - 1); }
  else if (e.key === 'ArrowRight' && view) { e.preventDefault(); moveTo(view.at + 1); }
  else if (e.key === 'Home' && view) { e.preventDefault(); moveTo(0); }
  else if (e.key === 'End' && view) { e.preventDefault(); moveTo(view.path.length); }
});
$('undo').onclick = () => view && moveTo(view.at - 1);
$('redo').onclick = () => view && moveTo(view.at + 1);
$('restart').onclick = () => view && go([]);
$('random').onclick = () => randomSteps(false);
$('quiescent').onclick = () => randomSteps(true);
window.addEventListener('error', (e) => showError('page error: ' + e.message));
load(location.search);
`;

export function explorerPage(protocolName: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>coordkit explore ${esc(protocolName)}</title>
<style>${STYLE}</style></head>
<body>
<header><h1>coordkit explore</h1><span class="model" id="model">loading ${esc(protocolName)}…</span><span id="position"></span></header>
<div id="error" role="alert"></div>
<main>
<div>
<section><h2>Run</h2>
<div class="toolbar">
<button id="undo" title="undo (←)">← undo</button><button id="redo" title="redo (→)">redo →</button><button id="restart">restart</button>
</div>
<div class="toolbar" style="margin-top:.4em">
<button id="random">random step</button><button id="quiescent">run until quiescent</button>
<label>seed <input id="seed" value="1" size="6" inputmode="numeric"></label>
</div>
<p style="margin:.4em 0"><a id="link" href="">link to this run</a></p>
<ol id="steps" start="0"></ol>
</section>
<section><h2>Enabled choices</h2><p class="muted" style="margin:0 0 .4em">keys 1–9, 0 pick; ← → move in the run</p><ol id="choices"></ol></section>
</div>
<div>
<section><h2>Nodes</h2><div id="cards"></div><p class="muted" style="margin:.4em 0 0"><span class="durable">◆</span> durable: survives a crash</p></section>
<section><h2>Network</h2><div id="network"></div></section>
<section><h2>Properties in this world</h2><table id="props"></table></section>
<section><h2>Sequence diagram</h2><div id="diagram"></div></section>
<section><h2>One node's machine</h2><p class="muted" id="states-caption" style="margin:0 0 .4em"></p><div id="states"></div></section>
</div>
</main>
<script>${SCRIPT}</script>
</body></html>`;
}
