/**
 * A report document as one self-contained HTML page that works offline: Mermaid is loaded from
 * a copy of node_modules' bundle beside the page, never from a CDN. After rendering, the page
 * records on <body> how many diagrams produced an SVG and which failed (`data-mermaid-*`), so a
 * headless browser can check it.
 */
import type { Table } from '../trace/metrics-tables.js';
import { contents, type ReportDocument } from './document.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Inline Markdown the report's text uses: `code`, **bold** and [links](to the local explorer or an anchor). */
const inline = (s: string) =>
  esc(s)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/\[([^\]]+)\]\(((?:http:\/\/127\.0\.0\.1:\d+\/|#)[^)\s]*)\)/g, '<a href="$2">$1</a>');

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}th{background:#f4f4f4}
td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
nav.toc{background:#f7f7f7;border:1px solid #ddd;padding:.4em 1em;margin:1em 0}nav.toc ul{margin:.2em 0;padding-left:1.2em}
.wide{overflow-x:auto}@media (max-width:700px){body{font-size:14px;margin:1em auto;padding:0 .6em}td,th{padding:2px 4px}}
pre.code{background:#f7f7f7;padding:.6em;overflow:auto;font-size:12px}figure{margin:1em 0;overflow:auto}figcaption{font-style:italic;color:#555}
.mermaid-error{color:#b00020;white-space:pre-wrap}`;

/** Runs in the page: parse, then render every diagram, one at a time; record the outcome on <body>. */
const SCRIPT = `
// Diagrams keep their natural size (a 5-node sequence diagram shrunk to the page is unreadable); their figure scrolls instead.
mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', maxTextSize: 500000, maxEdges: 5000, sequence: { useMaxWidth: false }, state: { useMaxWidth: false }, flowchart: { useMaxWidth: false } });
(async () => {
  const blocks = [...document.querySelectorAll('pre.mermaid')];
  const errors = [];
  let svgs = 0;
  for (const [i, el] of blocks.entries()) {
    const text = el.textContent;
    try {
      await mermaid.parse(text);
      const { svg } = await mermaid.render('diagram-' + i, text);
      el.innerHTML = svg;
      if (el.querySelector('svg') && !/Syntax error in text/.test(svg)) svgs++;
      else errors.push(i + ': no svg');
    } catch (err) {
      errors.push(i + ': ' + String(err && err.message || err).split('\\n').slice(0, 3).join(' '));
      el.classList.add('mermaid-error');
    }
  }
  document.body.dataset.mermaidTotal = String(blocks.length);
  document.body.dataset.mermaidSvgs = String(svgs);
  document.body.dataset.mermaidErrors = JSON.stringify(errors);
  document.body.dataset.mermaidDone = 'yes';
})();`;

function tableHtml(t: Table): string {
  const out = [`<p><strong>${inline(t.title)}</strong></p><div class="wide"><table><thead><tr>${t.headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>`];
  // Numbers (with their unit) align right and never wrap.
  for (const r of t.rows) out.push(`<tr>${r.map((c) => `<td${/^[\d,.]+( ms| %|%)?$/.test(c) ? ' class="num"' : ''}>${esc(c)}</td>`).join('')}</tr>`);
  out.push('</tbody></table></div>');
  if (t.summary) out.push(`<p>${inline(t.summary)}</p>`);
  return out.join('\n');
}

function tocHtml(toc: ReturnType<typeof contents>): string {
  const out = ['<nav class="toc"><strong>Contents</strong><ul>'];
  let open = false;
  for (const c of toc) {
    if (c.level === 2) {
      if (open) out.push('</ul></li>');
      out.push(`<li><a href="#${esc(c.anchor)}">${inline(c.text)}</a><ul>`);
      open = true;
    } else out.push(`<li><a href="#${esc(c.anchor)}">${inline(c.text)}</a></li>`);
  }
  if (open) out.push('</ul></li>');
  out.push('</ul></nav>');
  return out.join('');
}

export function toHtml(doc: ReportDocument, title: string, mermaidSrc = 'mermaid.min.js'): string {
  const toc = contents(doc);
  let heading = 0;
  const out: string[] = ['<!doctype html>', '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">', `<title>${esc(title)}</title>`, `<style>${STYLE}</style>`, '</head><body>'];
  const nextAnchor = () => toc[heading++]?.anchor;
  blocksHtml(doc, out, toc, nextAnchor);
  out.push(`<script src="${esc(mermaidSrc)}"></script>`, `<script>${SCRIPT}</script>`, '</body></html>');
  return out.join('\n');
}

function blocksHtml(blocks: ReportDocument, out: string[], toc: ReturnType<typeof contents>, nextAnchor: () => string | undefined): void {
  for (const b of blocks) {
    switch (b.kind) {
      case 'heading': {
        const anchor = b.level === 2 || b.level === 3 ? nextAnchor() : undefined;
        // The table of contents follows the summary (the first section), so the summary is on the first screen.
        if (b.level === 2 && anchor !== toc[0]?.anchor && !out.some((l) => l.startsWith('<nav class="toc">'))) out.push(tocHtml(toc));
        out.push(`<h${b.level}${anchor ? ` id="${esc(anchor)}"` : ''}>${inline(b.text)}</h${b.level}>`);
        break;
      }
      case 'text':
        out.push(`<p>${inline(b.text)}</p>`);
        break;
      case 'details':
        out.push(`<details${b.open ? ' open' : ''}><summary>${inline(b.summary)}</summary>`);
        blocksHtml(b.blocks, out, toc, nextAnchor);
        out.push('</details>');
        break;
      case 'table':
        out.push(tableHtml(b.table));
        break;
      case 'code':
        out.push(`<pre class="code">${esc(b.text)}</pre>`);
        break;
      case 'mermaid':
        out.push(`<figure><figcaption>${esc(b.title)}</figcaption><pre class="mermaid">${esc(b.text)}</pre></figure>`);
        break;
    }
  }
}
