/**
 * What a check established, in the words both `coordkit check` and its JSON use. A search that
 * reached every world proves the `always` properties; one that reached every world within its
 * bounds proves them within those bounds, named with the flag that raises each; one that stopped
 * early (at a violation, at --max-states) and random walks only failed to refute them.
 */
import type { CheckConfig, Property } from '../protocol.js';
import type { ExploreResult } from './explore.js';
import type { CheckReport } from './run-checks.js';
import { tolerated } from './liveness.js';

export type PropertyStatus = 'holds' | 'holds-within-bounds' | 'reached' | 'violated' | 'not-reached' | 'not-established';

export interface PropertyVerdict {
  name: string;
  kind: Property['kind'];
  status: PropertyStatus;
  /** Why, in a few words (empty for `holds` and `reached`). */
  detail: string;
}

export interface Verdict {
  /**
   * `pass`: every property established (exhaustively, or within the bounds `extent` names);
   * `no-violation-found`: nothing failed, but the search did not reach every world; `fail`.
   */
  outcome: 'pass' | 'no-violation-found' | 'fail';
  /** How far the exploration got, one line (absent without one). */
  extent?: string;
  properties: PropertyVerdict[];
  /** The closing line. */
  summary: string;
}

/** How each status is printed beside its property (same width, so the names line up). */
export const STATUS_LABELS: Record<PropertyStatus, string> = {
  holds: 'ok      ',
  'holds-within-bounds': 'ok      ',
  reached: 'ok      ',
  violated: 'VIOLATED',
  'not-reached': 'NOT MET ',
  'not-established': 'unproven',
};

const count = (n: number) => n.toLocaleString('en-US');

/** The bounds that held worlds back, each with the flag that raises it. */
export function boundsCut(e: Pick<ExploreResult, 'cut'>, config: Pick<CheckConfig, 'maxInFlight' | 'maxRound' | 'maxDepth'>): string[] {
  const out: string[] = [];
  if (e.cut.inFlight) out.push(`${count(e.cut.inFlight)} worlds at the in-flight bound ${config.maxInFlight} (raise it with --max-in-flight)`);
  if (e.cut.round) out.push(`${count(e.cut.round)} worlds past the round bound ${config.maxRound} (raise it with --max-round)`);
  if (e.cut.depth) out.push(`${count(e.cut.depth)} worlds at the depth bound ${config.maxDepth} (raise it with --max-depth, 0 for none)`);
  return out;
}

/** Why an exploration ended before reaching every world within its bounds, or undefined. */
export function stopReason(e: ExploreResult, maxStates: number | undefined): string | undefined {
  if (e.stopped === 'violation') return 'the search stopped at the first violation';
  if (e.stopped === 'max-states') return `search cut short by --max-states ${maxStates ?? e.states}`;
  if (e.stopped === 'capacity') return "search cut short: the shared visited set filled up at its largest size (a quarter of the machine's memory, at most 2^29 worlds); shard the check (--shard i/n) to go further";
  return undefined;
}

/** One line: how much of the space the exploration searched. */
export function exploreExtent(e: ExploreResult, config: CheckConfig, maxStates?: number): string {
  const stop = stopReason(e, maxStates);
  if (stop) return `not exhaustive: ${stop} after ${count(e.states)} worlds (depth ${e.depth}); the rest of the space was not searched`;
  const cuts = boundsCut(e, config);
  if (cuts.length) return `bounded: every world within the bounds was searched; not expanded: ${cuts.join('; ')}`;
  return 'exhaustive: every reachable world was searched, no bound cut the search';
}

/** What a walk ran: its random runs, or the one run it replayed. */
const walkedRuns = (w: { runs: number; replay: boolean }) => (w.replay ? 'the replayed run' : `${count(w.runs)} random runs`);

/** Why an unreached `sometimes` property is not proven unreachable, or undefined when it is. */
export function notReachedReason(r: Pick<CheckReport, 'explore' | 'walk' | 'model' | 'maxStates'>): string | undefined {
  const e = r.explore;
  const walked = r.walk ? `${walkedRuns(r.walk)}${r.walk.replay ? '' : ' (raise with --runs)'}` : '';
  if (e && e.complete && e.bounded === 0) return undefined;
  if (!e) return `not reached in ${walked}; an exploration (--mode explore or both) could tell whether any world reaches it`;
  const stop = stopReason(e, r.maxStates);
  const where = stop ? `not reached in ${count(e.states)} worlds (${stop})` : `no world within the bounds reaches it, ${boundsCut(e, r.model.config).join('; ')}`;
  return walked ? `${where}, nor in ${walked}` : where;
}

/**
 * How an exploration judged an `eventually` property: in quiescent worlds, and after the fair
 * phases run from every world with no message in flight (with which nodes kept down).
 */
function judgedBy(p: Property, r: CheckReport): string {
  const fair = r.explore?.fair;
  if (!fair) return '';
  const f = tolerated(p, r.model.config.nodes);
  const under = p.rejoin
    ? `${f} node${f > 1 ? 's' : ''} cut off, then rejoining`
    : f
      ? `${f} node${f > 1 ? 's' : ''} crashed or cut off for good, every choice of them, and with none`
      : 'every node up';
  const quiet = p.rejoin || !fair.quiescent ? '' : `in ${count(fair.quiescent)} quiescent worlds and `;
  const never = !p.rejoin && !fair.quiescent ? ' (no world is quiescent: timers never stop)' : '';
  const reliable = p.reliable ? '; only after runs that lost no message and crashed no node' : '';
  return `judged ${quiet}by fair runs (${under}) from ${count(fair.starts)} worlds with nothing in flight${never}${reliable}`;
}

export function verdict(r: CheckReport): Verdict {
  const { protocol, config } = r.model;
  const e = r.explore;
  const stop = e && stopReason(e, r.maxStates);
  const exhaustive = !!e && e.complete && e.bounded === 0;
  const bounded = !!e && e.complete && e.bounded > 0;
  const unmet = new Set([...(e ? e.unsatisfied : protocol.properties.map((p) => p.name))].filter((name) => !r.walk || r.walk.unsatisfied.includes(name)));
  const searched = [e && !e.complete ? `${count(e.states)} worlds (${stop})` : '', r.walk ? walkedRuns(r.walk) : ''].filter(Boolean).join(' and ');
  const properties = protocol.properties.map((p): PropertyVerdict => {
    const bad = r.violations.filter((v) => v.invariant === p.name);
    const base = { name: p.name, kind: p.kind };
    if (bad.length) {
      const notReached = bad.find((v) => v.notReached)?.notReached;
      if (notReached && bad.every((v) => v.notReached)) return { ...base, status: 'not-reached', detail: notReached };
      return { ...base, status: 'violated', detail: `found by ${[...new Set(bad.map((v) => v.mode))].join(' and ')}` };
    }
    if (p.kind === 'sometimes') {
      if (!unmet.has(p.name)) return { ...base, status: 'reached', detail: '' };
      return { ...base, status: 'not-established', detail: 'not checked: the search stopped at a violation first' };
    }
    const how = p.kind === 'eventually' ? judgedBy(p, r) : '';
    if (exhaustive) return { ...base, status: 'holds', detail: how };
    if (bounded) return { ...base, status: 'holds-within-bounds', detail: ['within the bounds', how].filter(Boolean).join('; ') };
    return { ...base, status: 'not-established', detail: `not established: no violation in ${searched}` };
  });
  return { ...outcomeOf(properties, { exhaustive: exhaustive || !e, searched }), extent: e ? exploreExtent(e, config, r.maxStates) : undefined, properties };
}

/**
 * The outcome the properties' verdicts add up to, and the closing line that says it.
 * `exhaustive`: a pass is a proof, not one within the bounds; `searched`: what was searched,
 * named when nothing failed and not everything was established.
 */
export function outcomeOf(properties: readonly PropertyVerdict[], o: { exhaustive: boolean; searched: string }): Pick<Verdict, 'outcome' | 'summary'> {
  const failed = properties.filter((p) => p.status === 'violated' || p.status === 'not-reached');
  const proven = properties.every((p) => p.status === 'holds' || p.status === 'holds-within-bounds' || p.status === 'reached');
  const outcome = failed.length ? 'fail' : proven ? 'pass' : 'no-violation-found';
  const summary =
    outcome === 'fail'
      ? `FAIL: ${failed.map((p) => `${p.name}${p.status === 'not-reached' ? ' (not reached)' : ''}`).join(', ')}`
      : outcome === 'pass'
        ? o.exhaustive
          ? 'PASS: every property holds'
          : 'PASS within the bounds: every property holds in every world within them (see "bounded" above)'
        : `NO VIOLATION FOUND, NOT A PROOF: ${o.searched} searched; every sometimes property was reached`;
  return { outcome, summary };
}
