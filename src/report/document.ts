/** The report as data: headings, paragraphs, tables, code and Mermaid blocks, rendered to Markdown and to HTML. */
import type { Table } from '../trace/metrics-tables.js';

export type Block =
  | { kind: 'heading'; level: 1 | 2 | 3 | 4; text: string }
  | { kind: 'text'; text: string }
  | { kind: 'table'; table: Table }
  | { kind: 'code'; text: string }
  | { kind: 'mermaid'; title: string; text: string };

export type ReportDocument = Block[];

/** Every Mermaid text of a document, in order. */
export function mermaidBlocks(doc: ReportDocument): { title: string; text: string }[] {
  return doc.filter((b): b is Extract<Block, { kind: 'mermaid' }> => b.kind === 'mermaid');
}
