#!/usr/bin/env node
// Entry point of the `palisade` command. Runs the TypeScript sources through tsx so that a
// fresh clone works right after `npm install`, with no build step. tsx is resolved from this
// repository, not from the working directory, so the command works from any folder.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../apps/cli/src/main.ts', import.meta.url));
const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), main, ...process.argv.slice(2)], {
  stdio: 'inherit',
});
// A signal sent to this wrapper only (kill, systemd, a test harness) must reach the real
// process, or a daemon would be left running without its parent.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  } else process.exit(code ?? 1);
});
