/** A report document as GitHub Markdown: Mermaid diagrams as ```mermaid blocks, which GitHub renders. */
import { tableMarkdown } from '../trace/metrics-tables.js';
import { contents, type ReportDocument } from './document.js';

export function toMarkdown(doc: ReportDocument): string {
  return blocksMarkdown(doc, doc);
}

function blocksMarkdown(blocks: ReportDocument, doc: ReportDocument): string {
  const out: string[] = [];
  for (const b of blocks) {
    switch (b.kind) {
      case 'heading':
        // The table of contents follows the summary (the first section).
        if (b === doc.filter((x) => x.kind === 'heading' && x.level === 2)[1]) {
          out.push('**Contents**', '', ...contents(doc).map((c) => `${c.level === 3 ? '  ' : ''}- [${c.text.replace(/[[\]]/g, '')}](#${c.anchor})`), '');
        }
        out.push(`${'#'.repeat(b.level)} ${b.text}`);
        break;
      case 'text':
        out.push(b.text);
        break;
      case 'table':
        out.push(tableMarkdown(b.table));
        break;
      case 'code':
        out.push('```', b.text, '```');
        break;
      case 'details':
        // GitHub renders Markdown inside <details> when blank lines set it apart.
        out.push(b.open ? '<details open>' : '<details>', `<summary>${b.summary}</summary>`, '', blocksMarkdown(b.blocks, doc), '</details>');
        break;
      case 'mermaid':
        out.push(`*${b.title}*`, '', '```mermaid', b.text, '```');
        break;
    }
    out.push('');
  }
  return out.join('\n');
}
