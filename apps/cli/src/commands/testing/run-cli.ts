import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const cliMain = resolve(dirname(fileURLToPath(import.meta.url)), '../../main.ts');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `palisade …` as a real process to completion (the CLI's integration tests). `env` is
 * merged over this process's environment (a variable set to `undefined` is left out); `stdin` is
 * written and closed, otherwise the child gets no stdin at all.
 */
export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; stdin?: string } = {}): Promise<CliRun> {
  return new Promise((res) => {
    const child = spawn(process.execPath, ['--import', 'tsx', cliMain, ...args], {
      env: { ...process.env, ...opts.env },
      stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('exit', (code) => res({ code, stdout, stderr }));
    if (opts.stdin !== undefined) child.stdin!.end(opts.stdin);
  });
}
