import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** Delivers lines of a log source until the returned function is called. */
export type LogSubscription = (onLine: (line: string) => void) => () => void;

/**
 * Follows new kernel log messages with `dmesg --follow-new` (util-linux ≥ 2.35, root or
 * kernel.dmesg_restrict=0). A child process rather than reading /dev/kmsg here: a blocking read
 * of /dev/kmsg cannot be cancelled and would pin a libuv thread until the next kernel message.
 */
export const kernelLog: LogSubscription = (onLine) => {
  const child = spawn('dmesg', ['--follow-new', '--notime', '--kernel'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const rl = createInterface({ input: child.stdout });
  rl.on('line', onLine);
  child.on('error', () => rl.close());
  return () => {
    rl.close();
    child.kill();
  };
};
