/**
 * `<primitive>.md`: a primitive's behaviour written down from its machine, for other
 * implementations: every state, what it does on entry, every event it accepts with the named
 * guard deciding each branch, what each action sends, notes, changes and arms, which fields are
 * durable (written before the step's messages leave), the timers and the delays a node draws
 * them from, and the state diagram. The sentences are the doc comments of the guards and actions
 * in the machine's source, so the reference changes when the machine does, and a test says when
 * it is stale.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { AnyStateMachine } from 'xstate';
import type { Protocol, Variant } from '../protocol.js';
import { stateDiagram } from '../trace/state-diagram.js';

/** What the source says of one named guard or action. */
interface Named {
  sentence: string;
  /** The initializer's text, for what it sends, notes, assigns and arms. */
  body: string;
}

/** Doc comments and bodies of every `name: ...` property in the sources, by name (first wins). */
export function namedDefinitions(sources: string[]): Map<string, Named> {
  const out = new Map<string, Named>();
  for (const text of sources) {
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const m = /^(\s*)(\w+): /.exec(lines[i]);
      if (!m || out.get(m[2])?.sentence) continue;
      const indent = m[1].length;
      let j = i + 1;
      while (j < lines.length && (lines[j].trim() === '' || lines[j].search(/\S/) > indent || /^\s*[)\]}]/.test(lines[j]))) {
        if (lines[j].search(/\S/) === indent && /^\s*[)\]}]/.test(lines[j])) {
          j++;
          break;
        }
        j++;
      }
      const body = lines.slice(i, j).join('\n');
      let sentence = '';
      let k = i - 1;
      while (k >= 0 && lines[k].trim().startsWith('//')) k--;
      if (k >= 0 && lines[k].trim().endsWith('*/')) {
        let start = k;
        while (start > 0 && !lines[start].includes('/**')) start--;
        sentence = lines.slice(start, k + 1).join('\n').replace(/\/\*\*|\*\//g, '').replace(/^\s*\* ?/gm, '').replace(/\s+/g, ' ').trim();
      }
      if (sentence || !out.has(m[2])) out.set(m[2], { sentence, body });
    }
  }
  return out;
}

const unique = (xs: string[]) => [...new Set(xs)];
const all = (re: RegExp, text: string) => unique([...text.matchAll(re)].map((m) => m[1]));

/** The top-level keys of each `assign({ ... })` in a body, shorthand ones included. */
function assignedKeys(body: string): string[] {
  const keys: string[] = [];
  for (const m of body.matchAll(/assign\(\{/g)) {
    let depth = 1;
    let expectKey = true;
    for (let i = m.index! + m[0].length; i < body.length && depth > 0; i++) {
      const c = body[i];
      if ('({['.includes(c)) depth++;
      else if (')}]'.includes(c)) depth--;
      else if (depth === 1 && c === ',') expectKey = true;
      else if (depth === 1 && expectKey && /\w/.test(c)) {
        const key = /^\w+/.exec(body.slice(i))![0];
        keys.push(key);
        i += key.length - 1;
        expectKey = false;
      }
    }
  }
  return keys;
}

/** Module-level helper functions of the sources, by name: their text. */
function helpers(sources: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const text of sources) {
    for (const m of text.matchAll(/^\s*(?:export )?(?:function (\w+)\(|const (\w+) = (?:\([^)]*\)(?::[^=]*)?|\w+) =>)/gm)) {
      const end = text.indexOf('\n\n', m.index! + 1);
      out.set(m[1] ?? m[2], text.slice(m.index!, end === -1 ? undefined : end));
    }
  }
  return out;
}

/** A body with the text of the helpers it calls (and they call) appended, so their effects count. */
function withHelpers(body: string, helperText: Map<string, string>): string {
  let text = body;
  const seen = new Set<string>();
  for (let round = 0; round < 3; round++) {
    for (const m of text.matchAll(/\b(\w+)\(/g)) {
      const h = helperText.get(m[1]);
      if (h && !seen.has(m[1])) {
        seen.add(m[1]);
        text += '\n' + h;
      }
    }
  }
  return text;
}

/** What an action's body visibly does. */
/** What the variant lets leave before its step's state is on disk (Variant.beforeFlush), as a paragraph. */
function earlyLines(variant: Variant): string[] {
  const sends = variant.beforeFlush?.sends ?? [];
  const notes = variant.beforeFlush?.notes ?? [];
  if (!sends.length && !notes.length) return [];
  const list = (xs: readonly string[]) => xs.map((x) => `\`${x}\``).join(', ');
  const what = [sends.length ? `messages ${list(sends)}` : '', notes.length ? `notes ${list(notes)}` : ''].filter(Boolean).join(' and ');
  return ['', `One exception: a step whose every message and note is among ${what} may send them before its state is on stable storage. A crash before that write completes restarts the node from the state before the step, with those messages already out; the model checks that this is safe.`];
}

function effects(body: string, durable: string[]) {
  const sends = all(/send\([^{]*\{\s*type:\s*'([\w.]+)'/g, body);
  const notes = all(/note\(\{\s*type:\s*'([\w.]+)'/g, body);
  const assigned = unique(assignedKeys(body));
  const timers = all(/id:\s*'([\w.]+)'/g, body);
  const cancels = all(/cancel\('([\w.]+)'\)/g, body);
  return { sends, notes, changes: assigned.map((f) => (durable.includes(f) ? `${f} (durable)` : f)), timers, cancels };
}

type Node = { key: string; id: string; states: Record<string, Node>; transitions: Map<string, any[]>; always?: any[]; entry: any[]; exit: any[]; parent?: Node };

const actionName = (a: unknown): string => (typeof a === 'string' ? a : typeof a === 'object' && a !== null && 'type' in a ? String((a as { type: unknown }).type) : typeof a === 'function' && 'type' in a ? String((a as { type: unknown }).type) : 'inline');
const guardName = (g: unknown): string => (g === undefined ? '' : typeof g === 'string' ? g : String((g as { type?: string }).type ?? 'inline'));

function stateList(root: Node): Node[] {
  const out: Node[] = [];
  const visit = (n: Node) => {
    for (const child of Object.values(n.states ?? {})) {
      out.push(child);
      visit(child);
    }
  };
  visit(root);
  return out;
}

const path = (n: Node, root: Node) => n.id.slice(root.id.length + 1);

/**
 * The behaviour reference of one protocol, from its default variant's machine and the sources
 * in its types file's folder (`sourceDir`; `label` is how the page names it).
 */
export function behaviourDoc(protocol: Protocol, sourceDir: string, label: string, generator: string): string {
  const variant = protocol.variants.find((v) => v.name === protocol.defaultVariant) ?? protocol.variants[0];
  const machine = variant.machine as AnyStateMachine;
  const root = machine.root as unknown as Node;
  const sources = readdirSync(sourceDir).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).sort().map((f) => readFileSync(join(sourceDir, f), 'utf8'));
  const named = namedDefinitions(sources);
  const helperText = helpers(sources);
  const constants = new Map([...sources.join('\n').matchAll(/export const (\w+) = ([\d_]+);/g)].map((m) => [m[1], Number(m[2].replace(/_/g, ''))]));
  const context = (machine as any).config.context;
  let initial: unknown = context;
  try {
    if (typeof context === 'function') initial = context({ input: { id: 1, n: 3, restored: null, params: {} } });
  } catch {
    initial = {};
  }
  let durable: string[] = [];
  try {
    durable = Object.keys(variant.durable(initial) as object);
  } catch {
    // A context this doc made up may not suit the protocol's durable(); then none is listed.
  }
  const guards = new Set<string>();
  const actions = new Set<string>();
  const sentence = (name: string) => named.get(name)?.sentence || '';

  const lines: string[] = [
    `# ${protocol.name}: behaviour`,
    '',
    `Generated from the \`${variant.name}\` machine (${label}) by \`${generator}\`; do not edit. ${protocol.description} What an action may send, note and change is read from its source (helpers it calls included); the sentences are its doc comments.`,
    '',
    'Each node runs this machine. A peer message arrives as the event of its `type` with `from` added; a client request as the event of its `type`; a timer as the event it was armed with. A node handles one event at a time, and when the event names no branch, or no branch\'s guard holds, it ignores the event. Branches are tried in order; the first whose guard holds is taken. Handlers under *any state* apply in every state that has no branch of its own for the event.',
    '',
    '## Durable state',
    '',
    durable.length
      ? `\`${durable.join('`, `')}\`: written to stable storage after a step changes them and **before** any message of that step is sent; a restarted node resumes from them (every other field starts afresh).`
      : 'None: a restarted node starts afresh.',
    ...earlyLines(variant),
    '',
    '## State diagram',
    '',
    '```mermaid',
    stateDiagram(machine),
    '```',
    '',
    '## States',
    '',
  ];

  const handlerRows = (node: Node, inherited: boolean): string[] => {
    const rows: string[] = [];
    const events = [...node.transitions.keys()].filter((e) => !e.startsWith('xstate.'));
    for (const event of events) {
      node.transitions.get(event)!.forEach((t, i) => {
        const guard = guardName(t.guard);
        if (guard) guards.add(guard);
        const names = (t.actions as unknown[]).map(actionName);
        names.forEach((n) => actions.add(n));
        const target = t.target?.length ? `→ ${t.target.map((s: Node) => path(s, root)).join(', ')}${t.reenter ? ' (re-entered)' : ''}` : 'stays';
        rows.push(`| ${i === 0 ? `\`${event}\`${inherited ? ' (any state)' : ''}` : ''} | ${guard ? `\`${guard}\`: ${sentence(guard) || '—'}` : i === 0 ? '(no guard)' : 'otherwise'} | ${names.map((n) => `\`${n}\``).join(', ') || '—'} | ${target} |`);
      });
    }
    return rows;
  };

  for (const node of [...stateList(root), root]) {
    const isRoot = node === root;
    lines.push(`### ${isRoot ? 'any state' : path(node, root)}`, '');
    if (!isRoot && root.states && (machine as any).config.initial === node.key) lines.push('The initial state.', '');
    const entry = (node.entry ?? []).map(actionName);
    const exit = (node.exit ?? []).map(actionName);
    entry.forEach((n) => actions.add(n));
    exit.forEach((n) => actions.add(n));
    if (entry.length) lines.push(`On entry: ${entry.map((n) => `\`${n}\``).join(', ')}.`, '');
    if (exit.length) lines.push(`On exit: ${exit.map((n) => `\`${n}\``).join(', ')}.`, '');
    const always = node.always ?? [];
    if (always.length) {
      lines.push('At once, the first that holds:', '');
      for (const t of always) {
        const guard = guardName(t.guard);
        if (guard) guards.add(guard);
        const names = (t.actions as unknown[]).map(actionName);
        names.forEach((n) => actions.add(n));
        lines.push(`- ${guard ? `\`${guard}\` (${sentence(guard) || '—'})` : 'otherwise'}: ${names.length ? `${names.map((n) => `\`${n}\``).join(', ')}, ` : ''}→ ${t.target?.map((s: Node) => path(s, root)).join(', ')}`);
      }
      lines.push('');
    }
    const rows = handlerRows(node, false);
    if (rows.length) lines.push('| event | guard: when | actions | then |', '| --- | --- | --- | --- |', ...rows, '');
    else if (!always.length && !isRoot) lines.push('Accepts nothing of its own; the *any state* handlers apply.', '');
  }

  lines.push('## Guards', '', '| guard | holds when |', '| --- | --- |');
  for (const g of [...guards].sort()) lines.push(`| \`${g}\` | ${sentence(g) || '—'} |`);
  lines.push('', '## Actions', '', '| action | what it does | may send | may note | may change | timers |', '| --- | --- | --- | --- | --- | --- |');
  const timers = new Map<string, { event: string; delay: string }>();
  for (const a of [...actions].sort()) {
    const impl = (machine.implementations.actions as Record<string, any>)[a];
    const body = withHelpers(named.get(a)?.body ?? '', helperText);
    const e = effects(body, durable);
    if (impl?.event && impl?.id) timers.set(impl.id, { event: impl.event.type, delay: String(impl.delay) });
    for (const m of body.matchAll(/raise\(\{\s*type:\s*'([\w.]+)'[^}]*\},\s*\{\s*delay:\s*([\w.]+),\s*id:\s*'([\w.]+)'/g)) timers.set(m[3], { event: m[1], delay: String(constants.get(m[2]) ?? `\`${m[2]}\``) });
    const arms = e.timers.map((t) => `arms \`${t}\``).concat(e.cancels.map((t) => `cancels \`${t}\``));
    if (impl?.id && impl?.event) arms.push(`arms \`${impl.id}\``);
    if (impl?.type === 'xstate.cancel' && typeof impl.sendId === 'string') arms.push(`cancels \`${impl.sendId}\``);
    const list = (xs: string[]) => xs.map((x) => `\`${x}\``).join(', ') || '—';
    lines.push(`| \`${a}\` | ${sentence(a) || '—'} | ${list(e.sends)} | ${list(e.notes)} | ${list(e.changes)} | ${unique(arms).join(', ') || '—'} |`);
  }
  lines.push('', '## Timers', '', 'A node draws each delay from the range below (the machine\'s delay times the host\'s jitter factor); re-arming a timer replaces it.', '', '| timer | event | delay (ms) |', '| --- | --- | --- |');
  if (!timers.size) lines.push('| (none: this machine arms no timer) | | |');
  for (const [id, t] of [...timers].sort()) {
    const factor = protocol.timerJitter?.[id];
    const d = Number(t.delay);
    lines.push(`| \`${id}\` | \`${t.event}\` | ${Number.isFinite(d) && factor ? `${d} to ${d * factor}` : t.delay} |`);
  }
  return lines.join('\n') + '\n';
}

/** Guards and actions the machine uses that carry no sentence in its sources. */
export function unexplained(protocol: Protocol, sourceDir: string): string[] {
  const doc = behaviourDoc(protocol, sourceDir, '', '');
  return [...doc.matchAll(/^\| `(\w+)` \| — \|/gm)].map((m) => m[1]);
}

/** Where a protocol's sources are, as its reference names them, from its types file. */
export const sourceFolder = (root: string, typesFile: string) => ({ dir: join(root, dirname(typesFile)), label: relative(root, join(root, dirname(typesFile))) + '/' });
