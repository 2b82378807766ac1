#!/usr/bin/env node
// Runs every test file of the repository with node's own test runner (its closing lines are what
// CI reads). Node 20's `--test` needs explicit files, so we find them here.
//   --unit           skip *.integration.test.ts
//   PATTERN...       only files whose path contains one of the patterns
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const patterns = args.filter((a) => !a.startsWith('--'));
const skipDirs = new Set(['node_modules', '.git', 'dist', 'data', '.tmp', 'console']);

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (skipDirs.has(name)) continue;
    const path = join(dir, name);
    const st = statSync(path);
    if (st.isDirectory()) walk(path, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out;
}

let files = ['packages', 'apps', 'rules', 'e2e', 'bench', 'scripts']
  .flatMap((d) => { try { return walk(join(root, d), []); } catch { return []; } })
  .sort();
if (unitOnly) files = files.filter((f) => !f.endsWith('.integration.test.ts'));
if (patterns.length) files = files.filter((f) => patterns.some((p) => f.includes(p)));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
// A test that hangs fails after 10 minutes instead of holding CI until its deadline, and a file
// whose tests are done exits even if a leaked handle would keep it alive.
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000', '--test-force-exit', '--test-reporter=spec', ...files],
  { cwd: root, stdio: 'inherit' },
);
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
