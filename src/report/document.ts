/** The report as data: headings, paragraphs, tables, code and Mermaid blocks, rendered to Markdown and to HTML. */
import type { Table } from '../trace/metrics-tables.js';

export type Block =
  | { kind: 'heading'; level: 1 | 2 | 3 | 4; text: string }
  | { kind: 'text'; text: string }
  | { kind: 'table'; table: Table }
  | { kind: 'code'; text: string }
  | { kind: 'mermaid'; title: string; text: string }
  /** Blocks folded away until opened (`<details>`, which GitHub Markdown renders too). */
  | { kind: 'details'; summary: string; blocks: Block[]; open?: boolean };

export type ReportDocument = Block[];

/** Every Mermaid text of a document, in order. */
export function mermaidBlocks(doc: ReportDocument): { title: string; text: string }[] {
  return doc.flatMap((b) => (b.kind === 'mermaid' ? [b] : b.kind === 'details' ? mermaidBlocks(b.blocks) : []));
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as '-'. */
export function slug(text: string): string {
  return text.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
}

/** The headings a table of contents lists (levels 2 and 3), each with its anchor, unique as GitHub makes them. */
export function contents(doc: ReportDocument): { level: 2 | 3; text: string; anchor: string }[] {
  const seen = new Map<string, number>();
  const out: { level: 2 | 3; text: string; anchor: string }[] = [];
  const flat = (blocks: ReportDocument): Block[] => blocks.flatMap((b) => (b.kind === 'details' ? flat(b.blocks) : [b]));
  for (const b of flat(doc)) {
    if (b.kind !== 'heading' || b.level === 1 || b.level === 4) continue;
    const base = slug(b.text.replace(/`/g, ''));
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    out.push({ level: b.level, text: b.text, anchor: count ? `${base}-${count}` : base });
  }
  return out;
}
