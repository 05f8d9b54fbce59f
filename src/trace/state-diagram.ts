/**
 * Mermaid `stateDiagram-v2` of one node's machine: every transition of @xstate/graph's
 * `toDirectedGraph` plus the eventless (`always`) ones it leaves out, each labelled with its
 * event and guard. Transitions declared on the machine's root apply in any state; they hang off
 * one "(any state)" node.
 *
 * Readability decides the layout. A transition with no target changes no state (it updates the
 * context or sends): as in UML's internal transitions it is listed inside its state, not drawn
 * as a self-loop, since Mermaid piles the labels of several self-loops on one line. Transitions
 * between the same two states become one arrow with one label line per event.
 */
import { toDirectedGraph, type DirectedGraphNode } from '@xstate/graph';
import type { AnyStateMachine } from 'xstate';

const ANY = 'any_state';

/** One transition as the diagram shows it: `target` undefined for one that changes no state. */
export interface DiagramTransition {
  source: string;
  target?: string;
  label: string;
}

interface TransitionLike {
  eventType: string;
  guard?: unknown;
  target?: readonly { id: string }[];
}

function guardName(guard: unknown): string {
  if (!guard) return '';
  if (typeof guard === 'string') return guard;
  const g = guard as { type?: string; name?: string };
  return g.type ?? g.name ?? 'guard';
}

function eventName(eventType: string): string {
  if (eventType === '') return 'always';
  if (eventType.startsWith('xstate.after.')) return `after ${eventType.split('.')[2]} ms`;
  return eventType;
}

/** Mermaid ends a statement at ';' and starts an entity at '#'. */
const clean = (s: string) => s.replace(/[;#]/g, ' ');

export function transitionLabel(t: TransitionLike): string {
  const guard = guardName(t.guard);
  return clean(`${eventName(t.eventType)}${guard ? ` [${guard}]` : ''}`);
}

/** The diagram's id of a state node: its path below the root with every other character as '_'. */
function diagramId(rootId: string, id: string): string {
  return id === rootId ? ANY : id.slice(rootId.length + 1).replace(/[^A-Za-z0-9]/g, '_');
}

/** Every transition of the machine, in declaration order, eventless ones included. */
export function diagramTransitions(machine: AnyStateMachine): DiagramTransition[] {
  const graph = toDirectedGraph(machine);
  const name = (id: string) => diagramId(graph.id, id);
  const out: DiagramTransition[] = [];
  const visit = (node: DirectedGraphNode) => {
    for (const e of node.edges) {
      const t = e.transition as unknown as TransitionLike;
      // toDirectedGraph draws a transition without a target as one back to its source.
      out.push({ source: name(e.source.id), target: t.target?.length ? name(e.target.id) : undefined, label: transitionLabel(t) });
    }
    for (const t of (node.stateNode.always ?? []) as unknown as TransitionLike[]) {
      const targets = t.target?.length ? t.target.map((s) => name(s.id)) : [undefined];
      for (const target of targets) out.push({ source: name(node.id), target, label: transitionLabel(t) });
    }
    node.children.forEach(visit);
  };
  visit(graph);
  return out;
}

export function stateDiagram(machine: AnyStateMachine, title?: string): string {
  const graph = toDirectedGraph(machine);
  const rootId = graph.id;
  const name = (id: string) => diagramId(rootId, id);
  const transitions = diagramTransitions(machine);
  const inside = new Map<string, string[]>();
  const arrows = new Map<string, string[]>();
  const add = (map: Map<string, string[]>, key: string, label: string) => {
    const labels = map.get(key) ?? [];
    if (!labels.includes(label)) labels.push(label);
    map.set(key, labels);
  };
  for (const t of transitions) {
    if (t.target === undefined) add(inside, t.source, t.label);
    else add(arrows, `${t.source} --> ${t.target}`, t.label);
  }

  const lines = ['stateDiagram-v2'];
  if (title) lines.unshift('---', `title: ${title.replace(/[:#;]/g, ' ')}`, '---');
  const describe = (id: string, indent: string) => {
    for (const label of inside.get(id) ?? []) lines.push(`${indent}${id} : ${label}`);
  };
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
      describe(id, indent);
    }
  };
  if (transitions.some((t) => t.source === ANY)) {
    lines.push(`    state "(any state)" as ${ANY}`);
    describe(ANY, '    ');
  }
  declare(graph, '    ');
  const initial = graph.stateNode.initial?.target?.[0];
  if (initial) lines.push(`    [*] --> ${name(initial.id)}`);
  for (const [arrow, labels] of arrows) lines.push(`    ${arrow}: ${labels.join('<br/>')}`);
  return lines.join('\n');
}
