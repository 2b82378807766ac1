#!/usr/bin/env node
// Builds the agent's native helpers from the project's own C source with the machine's C
// compiler (ADR 0006): no download, no node-gyp. Meant to run at install time; it never fails
// the install — without the helper, application control reports itself unsupported.
//   node scripts/build-native.mjs          build when the source is newer than the binary
//   node scripts/build-native.mjs --force  always build
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const helpers = [{ source: 'apps/agent/native/fanotify-gate.c', output: 'apps/agent/native/build/fanotify-gate', libs: ['-ldl'] }];

const force = process.argv.includes('--force');
if (process.platform !== 'linux') {
  console.log('build-native: not Linux, nothing to build');
  process.exit(0);
}
const cc = process.env.CC ?? 'cc';
let failed = 0;
for (const h of helpers) {
  const src = join(root, h.source);
  const out = join(root, h.output);
  if (!force && existsSync(out) && statSync(out).mtimeMs >= statSync(src).mtimeMs) continue;
  mkdirSync(dirname(out), { recursive: true });
  try {
    execFileSync(cc, ['-O2', '-Wall', '-Wextra', '-o', out, src, ...h.libs], { stdio: 'inherit' });
    console.log(`build-native: built ${h.output}`);
  } catch (e) {
    failed++;
    console.warn(`build-native: could not build ${h.output} with ${cc}: ${e instanceof Error ? e.message : e}`);
  }
}
// Exit 0 even on failure: an install must not break on a host without a compiler.
process.exitCode = failed && process.argv.includes('--strict') ? 1 : 0;
