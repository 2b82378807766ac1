import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { GATE_BINARY } from './gate-binary.ts';

/** A request or report from the helper about one file about to run. */
export interface GateRequest {
  /** `Q` needs an answer; `N` was allowed already (detect); `B` was denied from the cache. */
  kind: 'Q' | 'N' | 'B';
  id: number;
  access: 'exec' | 'open';
  pid: number;
  uid: number;
  sha256: string;
  path: string;
}

export interface GateMarks {
  /** Mount points (or any path: the mount containing it) marked with FAN_MARK_MOUNT. */
  mounts: string[];
  /** Whole filesystems (FAN_MARK_FILESYSTEM): includes bind mounts of the same filesystem. */
  filesystems: string[];
}

export interface GateOptions {
  marks: GateMarks;
  timeoutMs: number;
  detect: boolean;
  exemptPids?: number[];
  binary?: string;
}

export interface GateStats {
  hits: number;
  misses: number;
  timeouts: number;
  pending: number;
  dropped: number;
  exempt: number;
  /** Total time the helper spent answering cache hits (fstat to response), ns. */
  hitNs: number;
  /** Total time spent hashing on misses, ns. */
  hashNs: number;
  /** Total time from sending a request to the agent to its answer, ns, over `answers` answers. */
  answerNs: number;
  answers: number;
  /** Misses answered by the helper from the content-allowed set, without asking. */
  local: number;
  /** Inode ignore marks placed: the kernel no longer asks about those files until they change. */
  ignored: number;
}

export interface GateHandlers {
  request(r: GateRequest): void;
  timeout(id: number): void;
  error(message: string): void;
  exit(code: number | null, signal: string | null): void;
}

/**
 * The fanotify-gate helper process and its line protocol (apps/agent/native/fanotify-gate.c).
 * Runs in the enforcement worker thread, so a main thread busy in spawnSync (or GC) never
 * delays an answer; if this thread dies the helper dies with it and the host fails open.
 */
export class GateProcess {
  private child: ChildProcess | undefined;
  private statsWaiters: ((s: GateStats) => void)[] = [];
  hashImpl = '';
  pid = 0;

  async start(options: GateOptions, handlers: GateHandlers): Promise<void> {
    const args = ['--timeout-ms', String(options.timeoutMs)];
    // Detect never needs to hold a process: notification events, so nothing can wait on us.
    if (options.detect) args.push('--notify');
    for (const p of options.exemptPids ?? []) args.push('--exempt-pid', String(p));
    for (const m of options.marks.mounts) args.push('--mount', m);
    for (const m of options.marks.filesystems) args.push('--filesystem', m);
    const child = spawn(options.binary ?? GATE_BINARY, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    const ready = new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => {
        reject(new Error(`fanotify-gate exited (${code ?? signal}): ${stderr.trim()}`));
        handlers.exit(code, signal);
      });
      const rl = createInterface({ input: child.stdout! });
      rl.on('line', (line) => {
        const f = line.split(' ');
        switch (f[0]) {
          case 'READY':
            this.pid = Number(f[1]);
            this.hashImpl = f[2] ?? '';
            resolve();
            break;
          case 'Q':
          case 'N':
          case 'B': {
            // The path is the rest of the line: file names may contain spaces.
            const path = f.slice(6).join(' ');
            handlers.request({
              kind: f[0],
              id: Number(f[1]),
              access: f[2] === 'x' ? 'exec' : 'open',
              pid: Number(f[3]),
              uid: Number(f[4]),
              sha256: f[5] ?? '',
              path,
            });
            break;
          }
          case 'T':
            handlers.timeout(Number(f[1]));
            break;
          case 'S': {
            const n = f.slice(1).map(Number);
            const at = (i: number) => n[i] ?? 0;
            const s = {
              hits: at(0),
              misses: at(1),
              timeouts: at(2),
              pending: at(3),
              dropped: at(4),
              exempt: at(5),
              hitNs: at(6),
              hashNs: at(7),
              answerNs: at(8),
              answers: at(9),
              local: at(10),
              ignored: at(11),
            };
            for (const w of this.statsWaiters.splice(0)) w(s);
            break;
          }
          case 'E':
            handlers.error(f.slice(1).join(' '));
            break;
        }
      });
    });
    await ready;
  }

  private send(line: string): void {
    this.child?.stdin?.write(`${line}\n`);
  }

  answer(id: number, allow: boolean): void {
    this.send(`A ${id} ${allow ? 1 : 0}`);
  }

  /** Replaces the set of hashes the helper may allow on its own (see contentAllowed()). */
  setContentAllowed(hashes: readonly string[]): void {
    // One write: a 100,000-hash baseline is ~6.6 MB, sent once per policy change.
    this.child?.stdin?.write(['R', ...hashes.map((h) => `H ${h}`), ''].join('\n'));
  }

  addContentAllowed(sha256: string): void {
    this.send(`H ${sha256}`);
  }

  clearCache(): void {
    this.send('C');
  }

  setDetect(on: boolean): void {
    this.send(`D ${on ? 1 : 0}`);
  }

  exempt(pid: number, on = true): void {
    this.send(`${on ? 'X' : 'U'} ${pid}`);
  }

  stats(): Promise<GateStats> {
    return new Promise((resolve) => {
      this.statsWaiters.push(resolve);
      this.send('P');
    });
  }

  /** Ends the helper at once (watchdog): closing its fanotify group releases every waiting process. */
  kill(): void {
    this.child?.kill('SIGKILL');
  }

  /** Closing stdin ends the helper; the kernel then allows whatever was pending. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.stdin?.end();
    const t = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(t);
  }
}
