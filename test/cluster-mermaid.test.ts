/**
 * The Mermaid sequence diagrams of real runs parse with Mermaid's own parser (headless
 * Chromium, the bundle the HTML report ships), with every kind of event a run records (client
 * requests, kill -9, restart, partition, heal). Needs `npx tsc -p .`.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { protocols } from '../machines/index.js';
import { bodyData } from '../src/report/headless-chromium.js';
import { parsePage } from '../src/report/parse-page.js';
import { mermaidBundle } from '../src/report/write-report.js';
import { defaultScript, runCluster } from '../src/runtime/run-cluster.js';
import { mergeTraces, readTrace, type TraceRecord } from '../src/runtime/trace-log.js';
import { traceDiagram } from '../src/runtime/trace-diagram.js';

const root = mkdtempSync(join(tmpdir(), 'coordkit-mmd-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('Mermaid of real runs', () => {
  it('parses: the consensus seed run (client requests, kill -9, restart), also with a partition and heal', async () => {
    const protocol = protocols.find((p) => p.name === 'consensus')!;
    const variant = protocol.variants.find((v) => v.name === protocol.defaultVariant)!;
    const report = await runCluster({ protocol, variant, nodes: 5, script: defaultScript(protocol, 5), dir: join(root, 'consensus') });
    expect(report.ok).toBe(true);
    const merged = readTrace(report.traceFile);
    const plain = traceDiagram(merged, 5, 'consensus run').text;
    expect(plain).toMatch(/Note over N3: kill -9/);
    expect(plain).toMatch(/Note over N1: client client.propose value=scale_up/);
    // The same run with a partition and a heal recorded by the launcher half-way.
    const mid = merged[Math.floor(merged.length / 2)].time;
    const split = [...merged, { node: 0, time: mid, kind: 'fault', op: 'partition', sides: [[1, 2, 3], [4, 5]] }, { node: 0, time: mid + 1, kind: 'fault', op: 'heal' }] as TraceRecord[];
    const faulted = traceDiagram(mergeTraces([split]), 5, 'with partition').text;
    expect(faulted).toMatch(/Note over N1,N5: partition \{1,2,3\}\|\{4,5\}/);
    const broken = 'sequenceDiagram\n    N1->>: an arrow to nobody';
    const dir = join(root, 'parse');
    mkdirSync(dir, { recursive: true });
    copyFileSync(mermaidBundle(), join(dir, 'mermaid.min.js'));
    writeFileSync(join(dir, 'parse.html'), parsePage([broken, plain, faulted]));
    const results: string[] = JSON.parse(bodyData(join(dir, 'parse.html'))['parse-results'] ?? '[]');
    expect(results).toHaveLength(3);
    expect(results[0]).not.toBe('ok');
    expect(results.slice(1)).toEqual(['ok', 'ok']);
  });
});
