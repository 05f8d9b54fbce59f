/** What the harness tests share: the Python interpreter and the command template of the example peers. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..');
export const BIN = join(ROOT, 'bin', 'coordkit.js');
export const FIXTURES = join(__dirname, 'fixtures', 'harness');
/** The interpreter itself, not a version manager's shim (which can take seconds to start a process). */
export const PYTHON = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8', timeout: 20_000 }).stdout.trim() || 'python3';
export const peerCommand = (file: string) => `${PYTHON} ${join(ROOT, 'examples', 'python', file)} --id {id} --listen {listen} --peers {peers} --data {data} --cluster {cluster} --tls-dir {tls}`;
export const harness = (args: string[]) => spawnSync(process.execPath, [BIN, 'harness', ...args], { encoding: 'utf8', timeout: 90_000, cwd: ROOT });
