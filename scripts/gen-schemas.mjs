#!/usr/bin/env node
/**
 * `npm run schemas`: regenerates schemas/*.schema.json from the TypeScript message types of every
 * registered primitive and of the wire envelope (run after `tsc -p .`). Schema files of
 * primitives no longer registered are removed; schemas/README.md is left alone.
 */
import { readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { protocols } from '../dist/machines/index.js';
import { generateSchemas } from '../dist/src/runtime/schema-gen.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = resolve(process.argv[2] ?? join(root, 'schemas'));
try {
  const files = generateSchemas(protocols, root);
  mkdirSync(outDir, { recursive: true });
  for (const old of readdirSync(outDir)) if (old.endsWith('.schema.json') && !files.has(old)) rmSync(join(outDir, old));
  for (const [name, text] of files) writeFileSync(join(outDir, name), text);
  process.stdout.write(`wrote ${[...files.keys()].join(', ')} to ${outDir}\n`);
} catch (err) {
  process.stderr.write(`gen-schemas: ${err.message.split('\n')[0]}\n`);
  process.exitCode = 1;
}
