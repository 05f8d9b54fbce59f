import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = resolve(import.meta.dirname, '..', 'bin', 'coordkit.js');
const work = mkdtempSync(join(tmpdir(), 'coordkit-init-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const coordkit = (args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: work, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};

// The generated project passing its own tests is shown in package-contract.test.ts, against the packed package.
describe('coordkit init', () => {
  it('scaffolds a project named after its folder, with the versions of this kit', () => {
    const r = coordkit(['init', 'My Ring']);
    expect(r.status, r.stderr).toBe(0);
    const dir = join(work, 'My Ring');
    expect(r.stdout).toMatch(/^created protocol 'my-ring' in My Ring: /);
    expect(readdirSync(dir).sort()).toEqual(['.gitignore', 'ci.sh', 'coordkit.config.js', 'package.json', 'scenario.json', 'src', 'tsconfig.json']);
    expect(readdirSync(join(dir, 'src')).sort()).toEqual(['machine.ts', 'messages.ts', 'protocol.test.ts', 'protocol.ts']);
    const kit = JSON.parse(readFileSync(resolve(import.meta.dirname, '..', 'package.json'), 'utf8'));
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    expect(pkg.name).toBe('my-ring');
    expect(pkg.dependencies.coordkit).toBe(`^${kit.version}`);
    expect(pkg.devDependencies.vitest).toBe(kit.devDependencies.vitest);
    expect(readFileSync(join(dir, 'src', 'protocol.ts'), 'utf8')).toContain("name: 'my-ring'");
    expect(JSON.parse(readFileSync(join(dir, 'scenario.json'), 'utf8')).primitive).toBe('my-ring');
    expect(readFileSync(join(dir, 'src', 'protocol.test.ts'), 'utf8')).toContain("from 'coordkit/vitest'");
    expect(readFileSync(join(dir, 'coordkit.config.js'), 'utf8')).toContain("export default { protocols: ['./dist/protocol.js'] }");
    expect(statSync(join(dir, 'ci.sh')).mode & 0o111).not.toBe(0);
    expect(readdirSync(dir).join(' ')).not.toMatch(/\{\{/);
  });

  it('writes into an empty folder', () => {
    mkdirSync(join(work, 'empty'));
    expect(coordkit(['init', 'empty']).status).toBe(0);
  });

  it.each([
    [['init', 'taken'], 'coordkit: taken is not empty: give a new or empty folder\n'],
    [['init', 'taken/file.txt'], 'coordkit: taken/file.txt is a file: give a new or empty folder\n'],
    [['init'], 'coordkit: give exactly one folder (usage: coordkit init DIR)\n'],
    [['init', 'a', 'b'], 'coordkit: give exactly one folder (usage: coordkit init DIR)\n'],
  ])('refuses %j in one line, exit 2', (args, message) => {
    mkdirSync(join(work, 'taken'), { recursive: true });
    writeFileSync(join(work, 'taken', 'file.txt'), 'mine');
    const r = coordkit(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(message);
    expect(readFileSync(join(work, 'taken', 'file.txt'), 'utf8')).toBe('mine');
  });
});
