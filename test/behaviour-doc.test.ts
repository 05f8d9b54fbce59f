/**
 * The generated behaviour references (schemas/<primitive>.md; that they are current is
 * schemas.test.ts's check): every guard and action a machine uses carries its sentence, every
 * state and every event a state accepts is written down, the durable fields are the variant's,
 * and the sentences come from the source (a changed comment changes the reference).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AnyStateMachine } from 'xstate';
import { protocols } from '../machines/index.js';
import { kitSchemaDir } from '../src/cli/protocol-source.js';
import { packageRoot } from '../src/runtime/package-root.js';
import { behaviourDoc, namedDefinitions, sourceFolder, unexplained } from '../src/runtime/behaviour-doc.js';
import { typedProtocols } from '../src/runtime/schema-gen.js';

const typed = typedProtocols(protocols);

describe.each(typed.map((p) => [p.name, p] as const))('%s.md', (name, protocol) => {
  const { dir } = sourceFolder(packageRoot(), protocol.types.file);
  const doc = readFileSync(join(kitSchemaDir(), `${name}.md`), 'utf8');
  const machine = protocol.variants.find((v) => v.name === protocol.defaultVariant)!.machine as AnyStateMachine;

  it('gives every guard and action the machine uses its sentence', () => {
    expect(unexplained(protocol, dir)).toEqual([]);
  });

  it('writes down every state, every event each accepts, the timers and the state diagram', () => {
    const visit = (node: any): void => {
      for (const child of Object.values(node.states ?? {}) as any[]) {
        expect(doc, child.id).toContain(`### ${child.id.slice(machine.root.id.length + 1)}\n`);
        for (const event of child.transitions.keys()) if (!event.startsWith('xstate.')) expect(doc, `${child.id} ${event}`).toMatch(new RegExp(`\\| \`${event.replace('.', '\\.')}\``));
        visit(child);
      }
    };
    visit(machine.root);
    expect(doc).toContain('```mermaid\nstateDiagram-v2');
    expect(doc).toContain('## Timers');
    for (const guard of Object.keys(machine.implementations.guards)) if (doc.includes(`\`${guard}\``)) expect(doc).toMatch(new RegExp(`\\| \`${guard}\` \\| [^—|]`));
  });
});

describe('the sentences', () => {
  it('are the doc comments of the source, so a changed comment changes the reference', () => {
    const source = ['  guards: {', '    /** Holds when the sky is blue. */', '    blue: ({ context }) => context.sky === 1,', '    grey: () => true,', '  },'].join('\n');
    const named = namedDefinitions([source]);
    expect(named.get('blue')!.sentence).toBe('Holds when the sky is blue.');
    expect(named.get('grey')!.sentence).toBe('');
    const p = typed[0];
    const { dir, label } = sourceFolder(packageRoot(), p.types.file);
    expect(behaviourDoc(p, dir, label, 'npm run schemas')).toBe(readFileSync(join(kitSchemaDir(), `${p.name}.md`), 'utf8'));
  });

  it('name what a step makes durable before it sends, from the variant', () => {
    const election = typed.find((p) => p.name === 'election');
    if (!election) return;
    const doc = readFileSync(join(kitSchemaDir(), 'election.md'), 'utf8');
    expect(doc).toContain('`currentTerm`, `votedFor`, `data`: written to stable storage after a step changes them and **before** any message of that step is sent');
    expect(doc).toMatch(/\| `answerVote` \| RequestVote handler[^|]*\| `vote` \| `voted` \| `votedFor \(durable\)` \| arms `election` \|/);
    expect(doc).toMatch(/\| `election` \| `election_timeout` \| 150 to 300 \|/);
  });
});
