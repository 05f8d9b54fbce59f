/**
 * A page that only parses Mermaid texts (no rendering) with the bundled Mermaid, and records
 * each result on <body> as `data-parse-results`: the browser-side parser covers every diagram
 * type, including the state diagrams Mermaid cannot parse in Node without a DOM.
 */
export function parsePage(texts: readonly string[], mermaidSrc = 'mermaid.min.js'): string {
  const json = JSON.stringify(texts).replace(/</g, '\\u003c');
  return `<!doctype html><html><head><meta charset="utf-8"></head><body>
<script src="${mermaidSrc}"></script>
<script>
mermaid.initialize({ startOnLoad: false, maxTextSize: 500000 });
(async () => {
  const texts = ${json};
  const results = [];
  for (const text of texts) {
    try { await mermaid.parse(text); results.push('ok'); }
    catch (err) { results.push(String(err && err.message || err).split('\\n').slice(0, 3).join(' ')); }
  }
  document.body.dataset.parseResults = JSON.stringify(results);
})();
</script></body></html>`;
}
