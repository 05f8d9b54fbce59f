/** A report document as GitHub Markdown: Mermaid diagrams as ```mermaid blocks, which GitHub renders. */
import { tableMarkdown } from '../trace/metrics-tables.js';
import type { ReportDocument } from './document.js';

export function toMarkdown(doc: ReportDocument): string {
  const out: string[] = [];
  for (const b of doc) {
    switch (b.kind) {
      case 'heading':
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
      case 'mermaid':
        out.push(`*${b.title}*`, '', '```mermaid', b.text, '```');
        break;
    }
    out.push('');
  }
  return out.join('\n');
}
