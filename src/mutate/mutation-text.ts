/** How a mutation analysis reads on a terminal: a progress line, then the mutants that matter and the score. */
import type { MutantResult, MutationProgress, MutationReport } from './run-mutation.js';

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

/** A line rewritten in place on a terminal, one line every 5 s otherwise (CI logs). */
export function mutationProgress(label: string, stream: NodeJS.WriteStream = process.stderr) {
  const tty = !!stream.isTTY;
  let last = 0;
  let drawn = false;
  return {
    update(p: MutationProgress) {
      const now = performance.now();
      if (now - last < (tty ? 250 : 5000) && p.done < p.total) return;
      last = now;
      const rate = (p.done / Math.max(p.elapsedMs / 1000, 0.001)).toFixed(2);
      const line = `${label}: ${p.done}/${p.total} mutants, ${p.killed} killed, ${rate} mutants/s, ${seconds(p.elapsedMs)} elapsed`;
      if (tty) {
        stream.write(`\r\x1b[K${line}`);
        drawn = true;
      } else stream.write(line + '\n');
    },
    done() {
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (c: string[]) => c.map((x, i) => (i === c.length - 1 ? x : x.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].map((l) => `  ${l}`);
}

const where = (m: MutantResult) => `${m.file}:${m.line}`;
const change = (m: MutantResult) => `${m.before} → ${m.after}`;

export function formatMutation(r: MutationReport): string {
  const out: string[] = [];
  const pick = (s: MutantResult['status']) => r.mutants.filter((m) => m.status === s);
  const sampled = r.sample ? ` (a random sample of the ${r.sample.of}, seed ${r.sample.seed})` : '';
  out.push(`mutate ${r.protocol}: ${r.total} mutants${sampled} of ${r.files.join(', ')}; checks: ${r.configs.join(' | ')}${r.walkSeed === undefined ? '' : `; walks seeded ${r.walkSeed}`}`);
  const survivors = pick('survived');
  if (survivors.length) {
    out.push('', `survived (${survivors.length}): every check passed`);
    out.push(...table(['id', 'where', 'operator', 'mutation', 'checks tried'], survivors.map((m) => [m.id, where(m), m.operator, change(m), m.tried.join(' | ')])));
  }
  const timeouts = pick('timeout');
  if (timeouts.length) {
    out.push('', `killed by timeout (${timeouts.length}):`);
    out.push(...table(['id', 'where', 'mutation', 'check'], timeouts.map((m) => [m.id, where(m), change(m), `${m.tried.at(-1)} (${m.detail})`])));
  }
  const errors = pick('error');
  if (errors.length) {
    out.push('', `killed by an error in the check (${errors.length}):`);
    out.push(...table(['id', 'where', 'mutation', 'error'], errors.map((m) => [m.id, where(m), change(m), m.detail ?? ''])));
  }
  const equivalent = pick('equivalent');
  if (equivalent.length) {
    out.push('', `equivalent (${equivalent.length}), not counted:`);
    out.push(...table(['id', 'where', 'mutation', 'why'], equivalent.map((m) => [m.id, where(m), change(m), m.detail ?? ''])));
  }
  const invalid = pick('invalid');
  if (invalid.length) {
    out.push('', `invalid (${invalid.length}): the mutant does not load, not counted`);
    out.push(...table(['id', 'where', 'mutation', 'error'], invalid.map((m) => [m.id, where(m), change(m), m.detail ?? ''])));
  }
  const wrong = r.mutants.filter((m) => m.notEquivalent);
  if (wrong.length) out.push('', `listed as equivalent but killed (counted as killed; remove them from the list): ${wrong.map((m) => m.id).join(', ')}`);
  if (r.staleEquivalents.length) out.push('', `listed as equivalent but no such mutant (the code changed): ${r.staleEquivalents.join(', ')}`);
  const byKind = `${pick('killed').length} by a property, ${timeouts.length} by timeout, ${errors.length} by an error`;
  const score = r.score === null ? 'no mutant counts' : `${(r.score * 100).toFixed(1)}%${r.sample ? ` on the sample: an estimate for all ${r.sample.of} mutants` : ''}`;
  out.push(
    '',
    `killed ${r.killed} of ${r.total - r.equivalent - r.invalid} (${byKind}); ${r.survived} survived, ${r.equivalent} equivalent, ${r.invalid} invalid`,
    `score ${score}, in ${seconds(r.elapsedMs)} with ${r.jobs} processes (time limit per check: ${r.timeoutsMs.map(seconds).join(' | ')})`,
  );
  return out.join('\n') + '\n';
}
