import { type ChildProcess, spawn } from 'node:child_process';

/**
 * "Command output at intervals", like Wazuh's `<localfile>` with `log_format` `full_command` or
 * `command`: a command from the policy runs every `intervalMs` (the first run right away),
 * without a shell (the argv is executed as given), under a timeout and an output limit.
 *
 * - `full` (full_command): the whole output is one event, `ossec: output: 'ALIAS':\n<output>`;
 * - `lines` (command): each non-empty output line is one event, `ossec: output: 'ALIAS': <line>`.
 *
 * That is the text Wazuh's logcollector sends, so the stock rules work on it (the `ossec`
 * decoder, rules 530-536: disk usage, `netstat listening ports` changes through `<check_diff>`).
 * Events carry the location `command_<alias>`.
 */
export interface CommandSpec {
  /** argv: an absolute program path, then its arguments. */
  command: string[];
  alias: string;
  intervalMs: number;
  mode: 'full' | 'lines';
  timeoutMs: number;
  maxOutputBytes: number;
}

export interface CommandEvent {
  text: string;
  alias: string;
  location: string;
  /** Milliseconds since the epoch when the run finished. */
  time: number;
}

interface Slot {
  spec: CommandSpec;
  /** When the next run is due (ms). */
  due: number;
  child: ChildProcess | undefined;
  runs: number;
  lastError: string | undefined;
}

/** Most events one command run may produce in `lines` mode; the rest is dropped and reported. */
const MAX_LINES_PER_RUN = 10_000;

export function commandLocation(alias: string): string {
  return `command_${alias}`;
}

export class CommandRunner {
  private readonly slots: Slot[];
  private queue: CommandEvent[] = [];
  private stopped = false;
  /** Problems worth a status line (non-zero exit, timeout, output cut), newest last. */
  readonly warnings: string[] = [];

  constructor(
    specs: CommandSpec[],
    private readonly now: () => number = Date.now,
  ) {
    const t = this.now();
    this.slots = specs.map((spec) => ({ spec, due: t, child: undefined, runs: 0, lastError: undefined }));
  }

  /** Starts every command whose interval elapsed and that is not still running. */
  tick(): void {
    if (this.stopped) return;
    const t = this.now();
    for (const s of this.slots) {
      if (s.child || t < s.due) continue;
      s.due = t + s.spec.intervalMs;
      this.run(s);
    }
  }

  /** Events collected so far, oldest first (at most `max`). */
  take(max: number): CommandEvent[] {
    const out = this.queue.slice(0, max);
    this.queue = this.queue.slice(out.length);
    return out;
  }

  /** Puts events back in front (their evaluation failed): they are handed out again. */
  requeue(events: CommandEvent[]): void {
    this.queue = [...events, ...this.queue];
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Milliseconds until the next run is due (for the poll timer), 0 if one is due now. */
  nextDueIn(): number {
    const t = this.now();
    let next = Number.POSITIVE_INFINITY;
    for (const s of this.slots) if (!s.child) next = Math.min(next, Math.max(0, s.due - t));
    return next;
  }

  status(): { alias: string; runs: number; running: boolean; lastError?: string }[] {
    return this.slots.map((s) => ({
      alias: s.spec.alias,
      runs: s.runs,
      running: !!s.child,
      ...(s.lastError ? { lastError: s.lastError } : {}),
    }));
  }

  /** Kills running commands (their whole process group) and waits for them to exit. */
  async stop(): Promise<void> {
    this.stopped = true;
    const waits: Promise<void>[] = [];
    for (const s of this.slots) {
      const child = s.child;
      if (!child) continue;
      waits.push(new Promise<void>((resolve) => child.once('close', () => resolve())));
      killGroup(child);
    }
    await Promise.all(waits);
  }

  private run(s: Slot): void {
    const { spec } = s;
    let child: ChildProcess;
    try {
      // No shell: the argv runs as given. A process group of its own, so a timeout also ends
      // whatever the command started.
      child = spawn(spec.command[0]!, spec.command.slice(1), {
        shell: false,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', LC_ALL: 'C' },
      });
    } catch (err) {
      this.fail(s, `cannot start: ${(err as Error).message}`);
      return;
    }
    s.child = child;
    const chunks: Buffer[] = [];
    let size = 0;
    let cut = false;
    let timedOut = false;
    let stderr = '';
    child.stdout!.on('data', (b: Buffer) => {
      if (cut) return;
      const room = spec.maxOutputBytes - size;
      if (b.length > room) {
        chunks.push(b.subarray(0, room));
        size += room;
        cut = true;
        // Output beyond the limit is not read: the command is ended rather than drained.
        killGroup(child);
        return;
      }
      chunks.push(b);
      size += b.length;
    });
    child.stderr!.on('data', (b: Buffer) => {
      stderr = (stderr + b.toString('utf8')).slice(-500);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, spec.timeoutMs);
    timer.unref();
    child.once('error', (err) => {
      clearTimeout(timer);
      s.child = undefined;
      this.fail(s, `cannot start: ${err.message}`);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (s.child !== child) return;
      s.child = undefined;
      s.runs++;
      if (this.stopped) return;
      const output = Buffer.concat(chunks).toString('utf8');
      if (timedOut) this.fail(s, `timed out after ${spec.timeoutMs} ms; its output so far is used`);
      else if (cut) this.fail(s, `output cut at ${spec.maxOutputBytes} bytes`);
      else if (code !== 0) this.fail(s, `exited with ${code ?? signal}${stderr ? `: ${stderr.trim().slice(-200)}` : ''}`);
      else s.lastError = undefined;
      this.emit(spec, output);
    });
  }

  private emit(spec: CommandSpec, output: string): void {
    const time = this.now();
    const location = commandLocation(spec.alias);
    const head = `ossec: output: '${spec.alias}':`;
    if (spec.mode === 'full') {
      const body = output.replace(/\n+$/, '');
      if (!body) return;
      this.queue.push({ text: `${head}\n${body}`, alias: spec.alias, location, time });
      return;
    }
    let n = 0;
    for (const raw of output.split('\n')) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (!line) continue;
      if (++n > MAX_LINES_PER_RUN) {
        this.warn(`${spec.alias}: more than ${MAX_LINES_PER_RUN} output lines, the rest is dropped`);
        break;
      }
      this.queue.push({ text: `${head} ${line}`, alias: spec.alias, location, time });
    }
  }

  private fail(s: Slot, message: string): void {
    s.lastError = message;
    this.warn(`${s.spec.alias}: ${message}`);
  }

  private warn(message: string): void {
    this.warnings.push(message);
    if (this.warnings.length > 20) this.warnings.shift();
  }
}

/**
 * Kills the command and its process group, and closes our ends of its pipes: a process that left
 * the group (setsid) but still holds the pipe must not keep the run (and the next ones) pending.
 */
function killGroup(child: ChildProcess): void {
  if (child.pid !== undefined)
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  child.stdout?.destroy();
  child.stderr?.destroy();
}
