#!/usr/bin/env node
// Entry point of the `palisade` command. Runs the TypeScript sources through tsx so that a
// fresh clone works right after `npm install`, with no build step. tsx is resolved from this
// repository, not from the working directory, so the command works from any folder.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../apps/cli/src/main.ts', import.meta.url));
const tsx = import.meta.resolve('tsx');
const result = spawnSync(process.execPath, ['--import', tsx, main, ...process.argv.slice(2)], {
  stdio: 'inherit',
});
if (result.signal) process.kill(process.pid, result.signal);
process.exit(result.status ?? 1);
