import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** One journal entry as a syslog-style line (what the rules expect), with its place in the journal. */
export interface JournalLine {
  text: string;
  /** Entry time, seconds. */
  time: number;
  cursor: string;
  unit?: string;
}

export interface JournaldReaderOptions {
  /** Only these systemd units (`-u`); empty: the whole journal. */
  units: readonly string[];
  /** A journal namespace (`--namespace`, systemd 245+); absent: the default journal. */
  namespace?: string;
  /** Our resume point: read by journalctl at start (`--cursor-file`), written by `commit()`. */
  cursorFile: string;
  journalctl?: string;
  /** Entries held while the caller is busy; beyond this journalctl's output is paused. */
  maxQueued?: number;
  onExit?: (code: number | null, stderr: string) => void;
}

/**
 * Whether journald can be read here: journalctl runs and there is a journal (a journald socket,
 * or journal files). Containers commonly have the binary and no journal at all.
 */
export function journaldAvailability(journalctl = 'journalctl', namespace?: string): { available: boolean; reason?: string } {
  const v = spawnSync(journalctl, ['--version'], { encoding: 'utf8', timeout: 5000 });
  if (v.error || v.status !== 0) return { available: false, reason: `${journalctl} not found or not runnable` };
  const socket = namespace ? `/run/systemd/journal.${namespace}/socket` : '/run/systemd/journal/socket';
  if (existsSync(socket)) return { available: true };
  const hasFiles = (dir: string): boolean => {
    try {
      return readdirSync(dir).some((d) => (namespace ? d.endsWith(`.${namespace}`) : !d.includes('.')));
    } catch {
      return false;
    }
  };
  if (hasFiles('/run/log/journal') || hasFiles('/var/log/journal')) return { available: true };
  return { available: false, reason: `no journal${namespace ? ` for namespace ${namespace}` : ''} (no ${socket}, no journal files)` };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function messageText(m: unknown): string | undefined {
  if (typeof m === 'string') return m;
  // journalctl prints non-UTF-8 or binary messages as a byte array.
  if (Array.isArray(m)) return Buffer.from(m as number[]).toString('utf8');
  return undefined;
}

/**
 * Renders a journal entry (`journalctl -o json`) as the syslog line the decoders know, as Wazuh's
 * journald collector does: `Mmm dd hh:mm:ss host identifier[pid]: message` (UTC). Multi-line
 * messages become one line.
 */
export function journalEntryToLine(e: Record<string, unknown>): JournalLine | undefined {
  const msg = messageText(e.MESSAGE);
  const cursor = e.__CURSOR;
  if (msg === undefined || typeof cursor !== 'string') return undefined;
  const us = Number(e.__REALTIME_TIMESTAMP);
  const time = Number.isFinite(us) ? us / 1e6 : Date.now() / 1000;
  const d = new Date(time * 1000);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
  const host = typeof e._HOSTNAME === 'string' && e._HOSTNAME ? e._HOSTNAME : 'localhost';
  const ident = [e.SYSLOG_IDENTIFIER, e._COMM].find((x): x is string => typeof x === 'string' && x.length > 0);
  const pid = [e.SYSLOG_PID, e._PID].find((x): x is string => typeof x === 'string' && x.length > 0);
  const tag = ident ? `${ident}${pid ? `[${pid}]` : ''}: ` : '';
  const text = `${stamp} ${host} ${tag}${msg.replace(/\r?\n/g, ' ')}`;
  const unit = typeof e._SYSTEMD_UNIT === 'string' ? e._SYSTEMD_UNIT : undefined;
  return { text, time, cursor, ...(unit ? { unit } : {}) };
}

/**
 * Follows the journal through `journalctl -f -o json --cursor-file FILE`. journalctl only reads the
 * cursor file (at start; it does not write it when stopped by a signal): `commit()` writes the
 * cursor of the last entry the caller has handled, so a restart resumes right after it and
 * nothing handled is read twice, nothing unhandled is skipped. Without a cursor file (first
 * start) only new entries are read (`-n 0`).
 */
export class JournaldReader {
  private proc: ChildProcess | undefined;
  private readonly queue: JournalLine[] = [];
  private paused = false;
  private closed: Promise<void> = Promise.resolve();
  private lastCommitted: string | undefined;
  private stderr = '';
  entries = 0;

  constructor(private readonly options: JournaldReaderOptions) {}

  start(): void {
    const o = this.options;
    const args = ['-f', '-o', 'json', '--cursor-file', o.cursorFile];
    const cursor = existsSync(o.cursorFile) ? readFileSync(o.cursorFile, 'utf8').trim() : '';
    if (!cursor) args.push('-n', '0');
    if (o.namespace) args.push(`--namespace=${o.namespace}`);
    for (const u of o.units) args.push('-u', u);
    const proc = spawn(o.journalctl ?? 'journalctl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    proc.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-2000);
    });
    const rl = createInterface({ input: proc.stdout!, crlfDelay: Number.POSITIVE_INFINITY });
    rl.on('line', (l) => {
      let e: unknown;
      try {
        e = JSON.parse(l);
      } catch {
        return;
      }
      const line = e && typeof e === 'object' ? journalEntryToLine(e as Record<string, unknown>) : undefined;
      if (!line) return;
      this.entries++;
      this.queue.push(line);
      if (this.queue.length >= (o.maxQueued ?? 10_000) && !this.paused) {
        this.paused = true;
        proc.stdout!.pause();
      }
    });
    this.closed = new Promise<void>((resolve) => {
      proc.once('close', (code) => {
        if (this.proc === proc) this.proc = undefined;
        o.onExit?.(code, this.stderr);
        resolve();
      });
      proc.once('error', (err) => {
        this.stderr += String(err);
      });
    });
  }

  get running(): boolean {
    return this.proc !== undefined;
  }

  /** Takes up to `max` queued entries (oldest first). */
  take(max: number): JournalLine[] {
    const out = this.queue.splice(0, max);
    if (this.paused && this.queue.length < (this.options.maxQueued ?? 10_000) / 2) {
      this.paused = false;
      this.proc?.stdout?.resume();
    }
    return out;
  }

  /** Puts entries the caller could not handle back at the front of the queue. */
  requeue(lines: JournalLine[]): void {
    this.queue.unshift(...lines);
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Records `cursor` (the last handled entry) as the resume point, atomically. */
  commit(cursor: string): void {
    if (cursor === this.lastCommitted) return;
    const tmp = `${this.options.cursorFile}.tmp`;
    writeFileSync(tmp, cursor);
    renameSync(tmp, this.options.cursorFile);
    this.lastCommitted = cursor;
  }

  /**
   * Stops journalctl and waits until its output is read to the end: whatever it printed is in the
   * queue for the caller to handle and commit.
   */
  async stop(): Promise<void> {
    this.proc?.stdout?.resume();
    this.proc?.kill('SIGTERM');
    await this.closed;
    // journalctl may have written its own cursor (its last printed entry) on the way out: ours,
    // the last handled one, is the resume point.
    if (this.lastCommitted !== undefined) {
      const c = this.lastCommitted;
      this.lastCommitted = undefined;
      this.commit(c);
    }
  }
}
