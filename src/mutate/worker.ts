/**
 * A process that checks mutants, one `coordkit check --protocol MUTANT ARGS --json --first` at a
 * time, in-process: the command is the same one a user runs (the first violation kills a
 * mutant, so nothing past it is looked for), and the kit and the packages stay loaded between
 * mutants. The parent kills it when a check outlives its time limit.
 */
import { main } from '../cli.js';

export interface CheckJob {
  key: number;
  module: string;
  args: string[];
}

export interface CheckDone {
  key: number;
  /** The command's exit code: 0 nothing failed, 1 a property failed, 2 bad input, 3 an error. */
  code: number;
  /** Its `--json` output (on 0 and 1), else its one-line error. */
  output: string;
}

async function run(job: CheckJob): Promise<CheckDone> {
  const out: string[] = [];
  const write = process.stdout.write;
  const writeErr = process.stderr.write;
  const capture = (chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  };
  process.stdout.write = capture as typeof process.stdout.write;
  process.stderr.write = capture as typeof process.stderr.write;
  try {
    const code = await main(['check', '--protocol', job.module, ...job.args, '--json', '--first']);
    return { key: job.key, code, output: out.join('') };
  } catch (err) {
    return { key: job.key, code: 3, output: (err as Error).message };
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
}

process.on('message', (job: CheckJob) => {
  void run(job).then((done) => process.send!(done));
});
