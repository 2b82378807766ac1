import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { expandGlob } from './expand-globs.ts';

/** One configured file source: an absolute path or glob, the format its lines are in. */
export interface TailSource {
  pattern: string;
  format: string;
  /** What rules see as the event location (default: the path the file was found at). */
  location?: string;
}

export interface TailedLine {
  text: string;
  /** The path the line was read from (a rotated file keeps the name it was found under). */
  path: string;
  location: string;
  format: string;
  /** The file it came from (`dev:ino`, like TailBatch.ends), and the offsets the line spans. */
  file: string;
  start: number;
  end: number;
  /** The line was longer than the limit and was cut. */
  cut?: true;
}

/** Lines read by one poll, and how far each file got: hand it back to `commit()` once handled. */
export interface TailBatch {
  lines: TailedLine[];
  /** Per tracked file (`dev:ino`), the offset up to which this batch consumed it. */
  ends: Map<string, number>;
  /** The read budget ran out: more data is waiting. */
  more: boolean;
}

export interface FileTailerOptions {
  sources: TailSource[];
  /** Where offsets are persisted (JSON, written atomically on every commit). */
  stateFile: string;
  /** Files found by a pattern seen for the first time: read from the start or only new lines. */
  startAt?: 'end' | 'beginning';
  maxLineBytes?: number;
  /** Bytes read per poll over all files, so one huge backlog cannot hold the event loop. */
  readBytesPerPoll?: number;
  /** How long a file that left its path (rotated away, deleted) is still read after its last data. */
  rotationGraceMs?: number;
  /** Most files followed at once; further matches are reported and ignored. */
  maxFiles?: number;
  now?: () => number;
}

interface PersistedFile {
  location: string;
  format: string;
  path: string;
  dev: number;
  ino: number;
  offset: number;
  headLen: number;
  headHash: string;
}

interface PersistedState {
  version: 1;
  /** Patterns already followed: a file that shows up under one of them is read from its start. */
  patterns: string[];
  files: PersistedFile[];
}

interface Tracked {
  key: string;
  dev: number;
  ino: number;
  fd: number;
  path: string;
  location: string;
  format: string;
  /** Next byte to read. */
  offset: number;
  /** End of the last batch the caller committed: where a restart resumes. */
  committed: number;
  /** Bytes after the last newline, waiting for the rest of their line. */
  partial: Buffer | undefined;
  /** Discarding the rest of a line that was cut at the limit. */
  skipping: boolean;
  /** Since when no pattern names this file any more (rotated away or deleted). */
  goneSince: number | undefined;
  lastData: number;
  lastMtimeMs: number;
  /** Fingerprint of the file's first bytes: a file truncated and rewritten past our offset differs. */
  headLen: number;
  headHash: string;
  closed: boolean;
}

const HEAD_BYTES = 512;
const CHUNK = 1 << 20;

/**
 * Follows log files by polling: survives rename rotation (the old file is read to its end through
 * the open descriptor while the new one is read from its start), truncation in place
 * (copytruncate: the size drops below the offset, or the first bytes change), partial lines (held
 * until their newline), and restarts (offset, device, inode and a fingerprint of the first bytes
 * persisted per file; a file rotated while the agent was down is found again by its inode in the
 * same directory and finished first). Delivery is at least once: a batch is persisted only when
 * the caller commits it, so lines handed out but not committed before a crash are read again.
 */
export class FileTailer {
  private readonly files = new Map<string, Tracked>();
  private readonly knownPatterns: Set<string>;
  private restored: PersistedFile[];
  private firstPoll = true;
  private uncommitted = false;
  /** Problems worth a status line (unreadable file, too many files), newest last. */
  readonly warnings: string[] = [];
  private readonly opts: Required<Omit<FileTailerOptions, 'now'>> & { now: () => number };

  constructor(options: FileTailerOptions) {
    this.opts = {
      startAt: 'end',
      maxLineBytes: 65536,
      readBytesPerPoll: 4 << 20,
      rotationGraceMs: 5000,
      maxFiles: 512,
      now: Date.now,
      ...options,
    };
    const state = readState(this.opts.stateFile);
    this.knownPatterns = new Set(state?.patterns ?? []);
    this.restored = state?.files ?? [];
  }

  /** Files followed now, for the module's status. */
  tracked(): { path: string; location: string; offset: number; rotated: boolean }[] {
    return [...this.files.values()]
      .filter((t) => !t.closed)
      .map((t) => ({ path: t.path, location: t.location, offset: t.committed, rotated: t.goneSince !== undefined }));
  }

  poll(): TailBatch {
    if (this.uncommitted) throw new Error('FileTailer.poll() called before the previous batch was committed');
    const now = this.opts.now();
    if (this.firstPoll) this.restore();
    this.discover(now);
    const batch: TailBatch = { lines: [], ends: new Map(), more: false };
    let budget = this.opts.readBytesPerPoll;
    // Files that left their path hold the older lines: read them before their successors.
    const order = [...this.files.values()]
      .filter((t) => !t.closed)
      .sort((a, b) => (a.goneSince ?? Number.POSITIVE_INFINITY) - (b.goneSince ?? Number.POSITIVE_INFINITY));
    for (const t of order) {
      if (budget <= 0) break;
      if (t.goneSince === undefined) this.checkTruncation(t);
      const read = this.readFile(t, budget, batch);
      budget -= read;
      // The budget ran out inside this file: there may be more, poll again soon.
      if (budget <= 0) batch.more = true;
      if (read > 0) t.lastData = now;
      else if (t.goneSince !== undefined && now - Math.max(t.goneSince, t.lastData) >= this.opts.rotationGraceMs) this.finish(t, batch);
    }
    this.firstPoll = false;
    this.uncommitted = true;
    return batch;
  }

  /** Records a handled batch: offsets move on, finished rotated files are forgotten, state is saved. */
  commit(batch: TailBatch): void {
    for (const [key, end] of batch.ends) {
      const t = this.files.get(key);
      if (t) t.committed = end;
    }
    for (const [key, t] of this.files) if (t.closed) this.files.delete(key);
    this.uncommitted = false;
    this.persist();
  }

  close(): void {
    for (const t of this.files.values()) if (!t.closed) closeQuietly(t.fd);
    this.files.clear();
  }

  /**
   * Forgets a batch that could not be handled (the engine failed): back to the last committed
   * state, so the next poll reads those lines again.
   */
  rewind(): void {
    this.close();
    const state = readState(this.opts.stateFile);
    this.knownPatterns.clear();
    for (const p of state?.patterns ?? []) this.knownPatterns.add(p);
    this.restored = state?.files ?? [];
    this.firstPoll = true;
    this.uncommitted = false;
  }

  /** Re-opens the files of the saved state, following each by inode if it was renamed meanwhile. */
  private restore(): void {
    for (const pf of this.restored) {
      const found = findByInode(pf);
      if (!found) {
        this.warn(`${pf.path}: gone while the agent was stopped; lines after offset ${pf.offset} that were not read are lost`);
        continue;
      }
      const t = this.open(found, pf.location, pf.format, 0);
      if (!t) continue;
      // The same inode with other first bytes is another file (inode reuse): read it whole.
      if (pf.headLen > 0 && headHash(t.fd, pf.headLen) !== pf.headHash) continue;
      const size = fstatSync(t.fd).size;
      t.offset = t.committed = size < pf.offset ? 0 : pf.offset;
      this.refreshHead(t, size);
    }
    this.restored = [];
  }

  private discover(now: number): void {
    const seen = new Set<string>();
    for (const src of this.opts.sources) {
      const fromStart = !this.firstPoll || this.knownPatterns.has(src.pattern) || this.opts.startAt === 'beginning';
      for (const path of expandGlob(src.pattern)) {
        let st;
        try {
          st = statSync(path);
        } catch {
          continue;
        }
        const key = `${st.dev}:${st.ino}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const t = this.files.get(key);
        if (t) {
          t.path = path;
          t.goneSince = undefined;
          // The configured format wins over the one saved with the offset (the settings changed).
          t.format = src.format;
          continue;
        }
        if (this.files.size >= this.opts.maxFiles) {
          this.warn(`${path}: not followed, already ${this.opts.maxFiles} files`);
          continue;
        }
        const opened = this.open(path, src.location ?? path, src.format, now);
        if (!opened) continue;
        if (!fromStart) {
          const size = fstatSync(opened.fd).size;
          opened.offset = opened.committed = size;
        }
        this.refreshHead(opened, fstatSync(opened.fd).size);
        seen.add(opened.key);
      }
      this.knownPatterns.add(src.pattern);
    }
    for (const t of this.files.values()) if (!seen.has(t.key) && t.goneSince === undefined) t.goneSince = now;
  }

  private open(path: string, location: string, format: string, now: number): Tracked | undefined {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      this.warn(`${path}: ${(err as Error).message}`);
      return undefined;
    }
    const st = fstatSync(fd);
    const key = `${st.dev}:${st.ino}`;
    const existing = this.files.get(key);
    if (existing) {
      closeSync(fd);
      return existing;
    }
    const t: Tracked = {
      key,
      dev: st.dev,
      ino: st.ino,
      fd,
      path,
      location,
      format,
      offset: 0,
      committed: 0,
      partial: undefined,
      skipping: false,
      goneSince: undefined,
      lastData: now,
      lastMtimeMs: st.mtimeMs,
      headLen: 0,
      headHash: '',
      closed: false,
    };
    this.files.set(key, t);
    return t;
  }

  /** copytruncate and `> file`: start over at 0 when the file shrank or its first bytes changed. */
  private checkTruncation(t: Tracked): void {
    const st = fstatSync(t.fd);
    let truncated = st.size < t.offset;
    if (!truncated && st.mtimeMs !== t.lastMtimeMs && t.headLen > 0 && headHash(t.fd, t.headLen) !== t.headHash) truncated = true;
    t.lastMtimeMs = st.mtimeMs;
    if (truncated) {
      t.offset = 0;
      t.partial = undefined;
      t.skipping = false;
      t.headLen = 0;
      t.headHash = '';
    }
    this.refreshHead(t, st.size);
  }

  private refreshHead(t: Tracked, size: number): void {
    const len = Math.min(size, HEAD_BYTES);
    if (len > t.headLen) {
      t.headLen = len;
      t.headHash = headHash(t.fd, len);
    }
  }

  /** Reads from the file's offset, splits complete lines into the batch; returns the bytes read. */
  private readFile(t: Tracked, budget: number, batch: TailBatch): number {
    let total = 0;
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, budget));
    while (total < budget) {
      let n: number;
      try {
        n = readSync(t.fd, buf, 0, Math.min(buf.length, budget - total), t.offset);
      } catch (err) {
        this.warn(`${t.path}: ${(err as Error).message}`);
        break;
      }
      if (n === 0) break;
      total += n;
      const base = t.offset - (t.partial?.length ?? 0);
      const data = t.partial ? Buffer.concat([t.partial, buf.subarray(0, n)]) : buf.subarray(0, n);
      t.offset += n;
      let pos = 0;
      for (let nl = data.indexOf(10, pos); nl !== -1; nl = data.indexOf(10, pos)) {
        if (t.skipping) t.skipping = false;
        else this.pushLine(t, data.subarray(pos, nl), batch, base + pos, base + nl + 1);
        pos = nl + 1;
      }
      let rest = data.subarray(pos);
      if (t.skipping) rest = Buffer.alloc(0);
      else if (rest.length > this.opts.maxLineBytes) {
        // A line without end beyond the limit: hand out its start, drop the rest up to its newline.
        this.pushLine(t, rest, batch, base + pos, base + data.length);
        t.skipping = true;
        rest = Buffer.alloc(0);
      }
      // Copy: `buf` is reused by the next read.
      t.partial = rest.length ? Buffer.from(rest) : undefined;
      batch.ends.set(t.key, base + data.length - (t.partial?.length ?? 0));
    }
    return total;
  }

  private pushLine(t: Tracked, bytes: Buffer, batch: TailBatch, start: number, end: number): void {
    let b = bytes;
    let cut = false;
    if (b.length > this.opts.maxLineBytes) {
      b = b.subarray(0, this.opts.maxLineBytes);
      cut = true;
    }
    if (b.length && b[b.length - 1] === 13) b = b.subarray(0, b.length - 1);
    if (!b.length) return;
    batch.lines.push({
      text: b.toString('utf8'),
      path: t.path,
      location: t.location,
      format: t.format,
      file: t.key,
      start,
      end,
      ...(cut ? { cut: true as const } : {}),
    });
  }

  /** A rotated file is drained: its last line, even without a newline, is complete now. */
  private finish(t: Tracked, batch: TailBatch): void {
    if (t.partial && !t.skipping) this.pushLine(t, t.partial, batch, t.offset - t.partial.length, t.offset);
    t.partial = undefined;
    batch.ends.set(t.key, t.offset);
    closeQuietly(t.fd);
    t.closed = true;
  }

  private persist(): void {
    const state: PersistedState = {
      version: 1,
      patterns: [...this.knownPatterns],
      files: [...this.files.values()].map((t) => ({
        location: t.location,
        format: t.format,
        path: t.path,
        dev: t.dev,
        ino: t.ino,
        offset: t.committed,
        headLen: t.headLen,
        headHash: t.headHash,
      })),
    };
    const tmp = `${this.opts.stateFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(state));
    renameSync(tmp, this.opts.stateFile);
  }

  private warn(message: string): void {
    this.warnings.push(message);
    if (this.warnings.length > 20) this.warnings.shift();
  }
}

function readState(file: string): PersistedState | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as PersistedState;
    return s.version === 1 && Array.isArray(s.files) ? s : undefined;
  } catch {
    // A damaged state file costs a re-read decision, not the module.
    return undefined;
  }
}

/** The saved file at its path, or renamed within its directory (logrotate's `x` -> `x.1`). */
function findByInode(pf: PersistedFile): string | undefined {
  const same = (p: string): boolean => {
    try {
      const st = statSync(p);
      return st.isFile() && st.dev === pf.dev && st.ino === pf.ino;
    } catch {
      return false;
    }
  };
  if (same(pf.path)) return pf.path;
  const dir = dirname(pf.path);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  for (const n of names) if (same(join(dir, n))) return join(dir, n);
  return undefined;
}

function headHash(fd: number, len: number): string {
  const b = Buffer.alloc(len);
  const n = readSync(fd, b, 0, len, 0);
  return createHash('sha1').update(b.subarray(0, n)).digest('hex');
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
