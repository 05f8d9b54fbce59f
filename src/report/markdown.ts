/** A report document as GitHub Markdown: Mermaid diagrams as ```mermaid blocks, which GitHub renders. */
import { tableMarkdown } from '../trace/metrics-tables.js';
import { contents, type ReportDocument } from './document.js';

export function toMarkdown(doc: ReportDocument): string {
  const out: string[] = [];
  for (const b of doc) {
    switch (b.kind) {
      case 'heading':
        out.push(`${'#'.repeat(b.level)} ${b.text}`);
        // The table of contents follows the title.
        if (b.level === 1) out.push('', ...contents(doc).map((c) => `${c.level === 3 ? '  ' : ''}- [${c.text.replace(/[[\]]/g, '')}](#${c.anchor})`));
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
        out.push('<details>', `<summary>${b.summary}</summary>`, '');
        for (const t of b.tables) out.push(tableMarkdown(t), '');
        out.push('</details>');
        break;
      case 'mermaid':
        out.push(`*${b.title}*`, '', '```mermaid', b.text, '```');
        break;
    }
    out.push('');
  }
  return out.join('\n');
}
