/**
 * Mermaid `stateDiagram-v2` of one node's machine, from @xstate/graph's `toDirectedGraph`: every
 * state node (compound ones as nested states) and every transition labelled with its event and
 * guard. Transitions declared on the machine's root apply in any state; they hang off one
 * "(any state)" node.
 */
import { toDirectedGraph, type DirectedGraphNode } from '@xstate/graph';
import type { AnyStateMachine } from 'xstate';

const ANY = 'any_state';

function guardName(guard: unknown): string {
  if (!guard) return '';
  if (typeof guard === 'string') return guard;
  const g = guard as { type?: string; name?: string };
  return g.type ?? g.name ?? 'guard';
}

export function stateDiagram(machine: AnyStateMachine, title?: string): string {
  const graph = toDirectedGraph(machine);
  const rootId = graph.id;
  const name = (id: string) => (id === rootId ? ANY : id.slice(rootId.length + 1).replace(/[^A-Za-z0-9]/g, '_'));
  const lines = ['stateDiagram-v2'];
  if (title) lines.unshift('---', `title: ${title.replace(/[:#;]/g, ' ')}`, '---');
  const edges = new Set<string>();
  const addEdges = (node: DirectedGraphNode) => {
    for (const e of node.edges) {
      const raw = String(e.label.text);
      const event = raw.startsWith('xstate.after.') ? `after ${raw.split('.')[2]} ms` : raw;
      const guard = guardName((e.transition as { guard?: unknown }).guard);
      edges.add(`${name(e.source.id)} --> ${name(e.target.id)}: ${event}${guard ? ` [${guard}]` : ''}`.replace(/[;#]/g, ' '));
    }
    node.children.forEach(addEdges);
  };
  addEdges(graph);
  const declare = (node: DirectedGraphNode, indent: string) => {
    for (const child of node.children) {
      const id = name(child.id);
      const label = child.id.slice(rootId.length + 1);
      if (child.children.length) {
        lines.push(`${indent}state "${label}" as ${id} {`);
        const initial = child.stateNode.initial?.target?.[0];
        if (initial) lines.push(`${indent}    [*] --> ${name(initial.id)}`);
        declare(child, indent + '    ');
        lines.push(`${indent}}`);
      } else lines.push(`${indent}state "${label}" as ${id}`);
    }
  };
  if (graph.edges.length) lines.push(`    state "(any state)" as ${ANY}`);
  declare(graph, '    ');
  const initial = graph.stateNode.initial?.target?.[0];
  if (initial) lines.push(`    [*] --> ${name(initial.id)}`);
  for (const e of edges) lines.push('    ' + e);
  return lines.join('\n');
}
