/**
 * Single-point mutations of a machine's source, found on its syntax tree: the bugs a reader of
 * a protocol fears most are a wrong comparison, a condition the wrong way round, a count off by
 * one, a forgotten action or message, a transition to the wrong state. Each mutant is a set of
 * text edits to one file (one change; a negated guard edits each of its returns), named by an id
 * that survives edits elsewhere in the file: a hash of where it is (the enclosing functions and
 * properties), what it changes and how, not of its line.
 */
import { createHash } from 'node:crypto';
import type { ts as TS } from 'typescript-json-schema';
import { typescript } from './typescript.js';

export type MutationOperator =
  | 'relational' // < <= > >= swapped for their boundary or their negation
  | 'equality' // === and !== swapped
  | 'logical' // && and || swapped
  | 'negate' // a condition or a guard negated, or a negation dropped
  | 'off-by-one' // a constant in a count or bound, or a quorum size, moved by one
  | 'remove-action' // an action, a send, an assigned field or a whole transition removed
  | 'remove-guard' // a transition taken without its guard
  | 'target'; // a transition sent to another state

export interface Edit {
  start: number;
  end: number;
  text: string;
}

export interface Mutant {
  /** Stable across edits elsewhere: 8 hex digits. */
  id: string;
  /** The file, as the report names it. */
  file: string;
  /** 1-based line of the change. */
  line: number;
  operator: MutationOperator;
  /** The code changed, on one line. */
  before: string;
  after: string;
  edits: Edit[];
}

const ORDERING: Record<string, [string, string]> = {
  // operator: [boundary, negation]
  '<': ['<=', '>='],
  '<=': ['<', '>'],
  '>': ['>=', '<='],
  '>=': ['>', '<'],
};
const EQUALITY: Record<string, string> = { '===': '!==', '!==': '===', '==': '!=', '!=': '==' };
const ARITHMETIC = new Set(['+', '-']);
/** Transition properties whose value is actions. */
const ACTION_KEYS = new Set(['actions', 'entry', 'exit']);

const oneLine = (s: string, max = 80) => {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/** Every single-point mutant of one source file. `file` is the name reports use. */
export function mutantsOf(file: string, text: string): Mutant[] {
  const ts = typescript();
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, /\.[cm]?tsx?$/.test(file) ? ts.ScriptKind.TS : ts.ScriptKind.JS);
  const found: Omit<Mutant, 'id'>[] = [];
  const scopes = new Map<Omit<Mutant, 'id'>, string>();
  const startOf = (n: TS.Node) => n.getStart(source);
  const lineOf = (pos: number) => source.getLineAndCharacterOfPosition(pos).line + 1;
  const add = (at: TS.Node, operator: MutationOperator, edits: Edit[], before: string, after: string) => {
    const m = { file, line: lineOf(startOf(at)), operator, before: oneLine(before), after: oneLine(after), edits };
    found.push(m);
    scopes.set(m, scopeOf(ts, at));
  };
  const replace = (n: TS.Node, operator: MutationOperator, replacement: string) =>
    add(n, operator, [{ start: startOf(n), end: n.end, text: replacement }], n.getText(source), replacement);
  /** Removes one item of a comma-separated list (property, array element) with its comma. */
  const removeItem = (n: TS.Node, list: TS.NodeArray<TS.Node>, operator: MutationOperator) => {
    const i = list.indexOf(n);
    const edit =
      i < list.length - 1 ? { start: startOf(n), end: startOf(list[i + 1]), text: '' }
      : i > 0 ? { start: list[i - 1].end, end: n.end, text: '' }
      : { start: startOf(n), end: n.end, text: '' };
    add(n, operator, [edit], n.getText(source), '(removed)');
  };
  const negation = (e: TS.Expression) => `!(${e.getText(source)})`;

  const visit = (node: TS.Node): void => {
    if (skipped(ts, node)) return;
    if (ts.isBinaryExpression(node)) binary(node);
    if (ts.isPrefixUnaryExpression(node) && node.operator === ts.SyntaxKind.ExclamationToken) replace(node, 'negate', node.operand.getText(source));
    if (ts.isIfStatement(node) && !negatedElsewhere(ts, node.expression)) replace(node.expression, 'negate', negation(node.expression));
    if (ts.isConditionalExpression(node) && !negatedElsewhere(ts, node.condition)) replace(node.condition, 'negate', negation(node.condition));
    if (ts.isExpressionStatement(node) && ts.isCallExpression(node.expression) && !isGuard(ts, enclosingFunction(ts, node))) {
      add(node, 'remove-action', [{ start: startOf(node), end: node.end, text: ';' }], node.getText(source), '(removed)');
    }
    if (ts.isCallExpression(node) && isAssign(ts, node) && node.arguments[0] && ts.isObjectLiteralExpression(node.arguments[0])) {
      // One field left unassigned (a single field is the whole action, removed elsewhere).
      const fields = node.arguments[0].properties;
      if (fields.length > 1) for (const p of fields) removeItem(p, fields, 'remove-action');
    }
    if (ts.isPropertyAssignment(node)) property(node);
    if (isGuard(ts, node)) guard(node as TS.ArrowFunction | TS.FunctionExpression);
    ts.forEachChild(node, visit);
  };

  const binary = (node: TS.BinaryExpression) => {
    const op = node.operatorToken.getText(source);
    const swap = (to: string, operator: MutationOperator) =>
      add(node, operator, [{ start: startOf(node.operatorToken), end: node.operatorToken.end, text: to }], node.getText(source), `${node.left.getText(source)} ${to} ${node.right.getText(source)}`);
    if (ORDERING[op]) for (const to of ORDERING[op]) swap(to, 'relational');
    if (EQUALITY[op]) swap(EQUALITY[op], 'equality');
    if (op === '&&') swap('||', 'logical');
    if (op === '||') swap('&&', 'logical');
    if (ORDERING[op] || EQUALITY[op] || ARITHMETIC.has(op)) {
      for (const side of [node.left, node.right]) {
        if (ts.isNumericLiteral(side)) {
          const k = Number(side.text);
          for (const to of k > 0 ? [k - 1, k + 1] : [k + 1]) replace(side, 'off-by-one', String(to));
        } else if (ORDERING[op] && ts.isCallExpression(side)) {
          // A quorum or a size computed by a call: one more or one fewer.
          for (const d of ['+ 1', '- 1']) replace(side, 'off-by-one', `(${side.getText(source)} ${d})`);
        }
      }
    }
  };

  const property = (node: TS.PropertyAssignment) => {
    const key = propertyName(ts, node.name);
    const parent = node.parent;
    if (key && ACTION_KEYS.has(key) && !isSetup(ts, parent)) {
      if (ts.isArrayLiteralExpression(node.initializer)) for (const e of node.initializer.elements) removeItem(e, node.initializer.elements, 'remove-action');
      else removeItem(node, parent.properties, 'remove-action');
    }
    if (key === 'guard') removeItem(node, parent.properties, 'remove-guard');
    if (key === 'target' && ts.isStringLiteral(node.initializer)) targets(node.initializer);
    // A transition of an `on` map: removed whole, each of its alternatives removed, its target changed.
    if (ts.isObjectLiteralExpression(parent) && parentKey(ts, parent) === 'on') {
      removeItem(node, parent.properties, 'remove-action');
      if (ts.isArrayLiteralExpression(node.initializer) && node.initializer.elements.length > 1) {
        for (const e of node.initializer.elements) removeItem(e, node.initializer.elements, 'remove-action');
      }
      for (const s of shorthandTargets(ts, node.initializer)) targets(s);
    }
    if (key === 'always' || key === 'after') for (const s of shorthandTargets(ts, node.initializer)) targets(s);
  };

  const targets = (s: TS.StringLiteral) => {
    for (const other of siblingStates(ts, s)) replace(s, 'target', JSON.stringify(other));
  };

  const guard = (fn: TS.ArrowFunction | TS.FunctionExpression) => {
    if (!ts.isBlock(fn.body)) {
      replace(fn.body, 'negate', negation(fn.body));
      return;
    }
    const returns: TS.ReturnStatement[] = [];
    const collect = (n: TS.Node): void => {
      if (ts.isFunctionLike(n)) return;
      if (ts.isReturnStatement(n) && n.expression) returns.push(n);
      ts.forEachChild(n, collect);
    };
    ts.forEachChild(fn.body, collect);
    if (!returns.length) return;
    const edits = returns.map((r) => ({ start: startOf(r.expression!), end: r.expression!.end, text: negation(r.expression!) }));
    add(fn, 'negate', edits, `guard ${scopeOf(ts, fn).split('/').pop()}`, 'negated');
  };

  for (const region of machineRegions(ts, source) ?? [source]) visit(region);
  return identify(found, scopes, text);
}

/** Ids from place and change; identical changes in one place are told apart by their order. Mutants that change nothing, or the same as another, are dropped. */
function identify(found: Omit<Mutant, 'id'>[], scopes: Map<Omit<Mutant, 'id'>, string>, text: string): Mutant[] {
  const seen = new Map<string, number>();
  const results = new Set<string>();
  const out: Mutant[] = [];
  for (const m of found) {
    const result = applyEdits(text, m.edits);
    if (result === text || results.has(result)) continue;
    results.add(result);
    const key = [m.file, scopes.get(m), m.operator, m.before, m.after].join('\n');
    const k = seen.get(key) ?? 0;
    seen.set(key, k + 1);
    out.push({ id: createHash('sha256').update(`${key}\n${k}`).digest('hex').slice(0, 8), ...m });
  }
  return out;
}

export function applyEdits(text: string, edits: readonly Edit[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

/**
 * The code of a file that defines its machines: each `createMachine(...)` call (with the
 * `setup(...)` it is chained to) and the functions and constants of the file that code names,
 * transitively. Properties, variants and the protocol's hooks, even in the same file, are the
 * specification, not the machine. Undefined when the file defines no machine (all of it is then
 * mutated, but for Protocol and Property objects).
 */
function machineRegions(ts: typeof TS, source: TS.SourceFile): TS.Node[] | undefined {
  const roots: TS.Node[] = [];
  const declarations = new Map<string, TS.Node[]>();
  const scan = (n: TS.Node): void => {
    if (ts.isCallExpression(n)) {
      const callee = n.expression;
      const name = ts.isPropertyAccessExpression(callee) ? callee.name.text : ts.isIdentifier(callee) ? callee.text : undefined;
      if (name === 'createMachine') roots.push(n);
    }
    if ((ts.isFunctionDeclaration(n) || ts.isVariableDeclaration(n)) && n.name && ts.isIdentifier(n.name)) {
      declarations.set(n.name.text, [...(declarations.get(n.name.text) ?? []), n]);
    }
    ts.forEachChild(n, scan);
  };
  scan(source);
  if (!roots.length) return undefined;
  const regions = new Set<TS.Node>(roots);
  const within = (n: TS.Node, outer: TS.Node) => n.pos >= outer.pos && n.end <= outer.end;
  const work = [...roots];
  while (work.length) {
    const region = work.pop()!;
    const names = (n: TS.Node): void => {
      if (ts.isIdentifier(n)) {
        for (const d of declarations.get(n.text) ?? []) {
          // A function around a machine is not named by it; one already inside a region is covered.
          if (regions.has(d) || roots.some((r) => within(r, d)) || [...regions].some((r) => within(d, r))) continue;
          regions.add(d);
          work.push(d);
        }
      }
      ts.forEachChild(n, names);
    };
    names(region);
  }
  return [...regions].filter((r) => ![...regions].some((o) => o !== r && within(r, o)));
}

/** Code that is not run (types, imports and exports of names, a machine's declared types) or that specifies rather than implements (properties, protocols). */
function skipped(ts: typeof TS, node: TS.Node): boolean {
  if (ts.isTypeNode(node) || ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node) || ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) return true;
  if (ts.isObjectLiteralExpression(node)) {
    const keys = new Set(node.properties.flatMap((p) => (p.name && propertyName(ts, p.name as TS.PropertyName) ? [propertyName(ts, p.name as TS.PropertyName)!] : [])));
    if ((keys.has('kind') && keys.has('holds')) || (keys.has('variants') && keys.has('properties'))) return true;
  }
  return ts.isPropertyAssignment(node) && propertyName(ts, node.name) === 'types';
}

function propertyName(ts: typeof TS, name: TS.PropertyName): string | undefined {
  return ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name) ? name.text : undefined;
}

/** The key under which an object literal is a property's value. */
function parentKey(ts: typeof TS, o: TS.Node): string | undefined {
  return ts.isPropertyAssignment(o.parent) ? propertyName(ts, o.parent.name) : undefined;
}

/** A negated comparison or negation is already a mutant of its own (the swapped operator, the dropped `!`). */
function negatedElsewhere(ts: typeof TS, e: TS.Expression): boolean {
  while (ts.isParenthesizedExpression(e)) e = e.expression;
  if (ts.isPrefixUnaryExpression(e)) return e.operator === ts.SyntaxKind.ExclamationToken;
  if (!ts.isBinaryExpression(e)) return false;
  const op = e.operatorToken.kind;
  const k = ts.SyntaxKind;
  return [k.EqualsEqualsEqualsToken, k.ExclamationEqualsEqualsToken, k.EqualsEqualsToken, k.ExclamationEqualsToken, k.LessThanToken, k.LessThanEqualsToken, k.GreaterThanToken, k.GreaterThanEqualsToken].includes(op);
}

/** The object given to `setup(...)`: its `actions` are implementations, not a transition's. */
function isSetup(ts: typeof TS, o: TS.Node): boolean {
  return ts.isCallExpression(o.parent) && ts.isIdentifier(o.parent.expression) && o.parent.expression.text === 'setup';
}

/** `assign({...})`, `enqueue.assign({...})`. */
function isAssign(ts: typeof TS, call: TS.CallExpression): boolean {
  const callee = call.expression;
  return (ts.isIdentifier(callee) && callee.text === 'assign') || (ts.isPropertyAccessExpression(callee) && callee.name.text === 'assign');
}

/** A function that is a guard: the value of `guard:` or of an entry of `guards: {...}`. */
function isGuard(ts: typeof TS, node: TS.Node | undefined): boolean {
  if (!node || !(ts.isArrowFunction(node) || ts.isFunctionExpression(node))) return false;
  const p = node.parent;
  if (!ts.isPropertyAssignment(p)) return false;
  return propertyName(ts, p.name) === 'guard' || (ts.isObjectLiteralExpression(p.parent) && parentKey(ts, p.parent) === 'guards');
}

function enclosingFunction(ts: typeof TS, node: TS.Node): TS.Node | undefined {
  for (let n = node.parent; n; n = n.parent) if (ts.isArrowFunction(n) || ts.isFunctionExpression(n) || ts.isFunctionDeclaration(n)) return n;
  return undefined;
}

/** The string targets of a transition value: `'x'`, `{ target: 'x' }` (found elsewhere), `c ? 'x' : 'y'`. */
function shorthandTargets(ts: typeof TS, value: TS.Expression): TS.StringLiteral[] {
  if (ts.isStringLiteral(value)) return [value];
  if (ts.isConditionalExpression(value)) return [...shorthandTargets(ts, value.whenTrue), ...shorthandTargets(ts, value.whenFalse)];
  if (ts.isArrayLiteralExpression(value)) return value.elements.flatMap((e) => (ts.isStringLiteral(e) ? [e] : []));
  return [];
}

/** The other states a target could name: the keys of the nearest `states` map, around it or below it, that has the target. */
function siblingStates(ts: typeof TS, target: TS.StringLiteral): string[] {
  const relative = target.text.startsWith('.');
  const name = relative ? target.text.slice(1) : target.text;
  if (!/^[\w-]+$/.test(name)) return [];
  for (let n: TS.Node | undefined = target.parent; n; n = n.parent) {
    if (!ts.isObjectLiteralExpression(n)) continue;
    const maps = [parentKey(ts, n) === 'states' ? n : undefined, childStates(ts, n)].filter((m): m is TS.ObjectLiteralExpression => !!m);
    for (const map of maps) {
      const keys = map.properties.flatMap((p) => (ts.isPropertyAssignment(p) && p.name && propertyName(ts, p.name) ? [propertyName(ts, p.name)!] : []));
      if (keys.includes(name)) return keys.filter((k) => k !== name).map((k) => (relative ? `.${k}` : k));
    }
  }
  return [];
}

function childStates(ts: typeof TS, o: TS.ObjectLiteralExpression): TS.ObjectLiteralExpression | undefined {
  for (const p of o.properties) if (ts.isPropertyAssignment(p) && propertyName(ts, p.name) === 'states' && ts.isObjectLiteralExpression(p.initializer)) return p.initializer;
  return undefined;
}

/** Where a node is: the names of the functions, variables and properties around it, outermost first. */
function scopeOf(ts: typeof TS, node: TS.Node): string {
  const names: string[] = [];
  for (let n: TS.Node | undefined = node; n; n = n.parent) {
    if ((ts.isFunctionDeclaration(n) || ts.isVariableDeclaration(n) || ts.isPropertyAssignment(n) || ts.isMethodDeclaration(n)) && n.name) {
      names.push(ts.isIdentifier(n.name) || ts.isStringLiteral(n.name) ? n.name.text : '?');
    }
  }
  return names.reverse().join('/');
}
