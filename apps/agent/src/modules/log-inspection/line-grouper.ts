import { compilePcre2 } from '@palisade/log-rules';

/**
 * Joins the physical lines of one file into records before they reach the rules, like Wazuh's
 * logcollector does for `multi-line: N`, `multi-line-regex` and `audit`:
 *
 * - `lines`: every N lines form one record (Wazuh's `multi-line: N`, joined with spaces);
 * - `regex`: a line matching the start pattern opens a new record, the lines after it belong to
 *   it (Java stack traces, Python tracebacks); a record also ends at `maxLines` or when no line
 *   came for `timeoutMs` (the writer may still be busy, but an alert should not wait forever);
 * - `audit`: consecutive auditd lines with the same event id (`msg=audit(TIME:ID)`) form one
 *   record joined with spaces, at most 16 (Wazuh's read_audit).
 *
 * The grouper remembers where its pending record started in the file, so the caller can keep
 * the saved offset before it: a restart re-reads a record that was not finished, never loses it.
 */
export type MultilineSpec =
  | { kind: 'lines'; lines: number }
  | { kind: 'regex'; start: string; maxLines: number; timeoutMs: number; join: JoinMode }
  | { kind: 'audit'; timeoutMs: number };

/** How the lines of a record are joined (Wazuh's multiline_regex `replace`). */
export type JoinMode = 'no-replace' | 'none' | 'wspace' | 'tab';

const JOINERS: Record<JoinMode, string> = { 'no-replace': '\n', none: '', wspace: ' ', tab: '\t' };

/** One physical line, with the file offsets it spans. */
export interface GroupLine {
  text: string;
  start: number;
  end: number;
}

/** A finished record: its text and the file offset right after its last line. */
export interface GroupRecord {
  text: string;
  end: number;
  /** Cut short by maxLines/16 lines rather than ended by the next record's start. */
  full?: true;
}

/** Most lines Wazuh's read_audit joins into one event. */
const AUDIT_MAX_LINES = 16;
const AUDIT_ID = /msg=audit\([^:)]*:(\d+)\)/;

/** Compiles a multi-line start pattern (PCRE2 syntax, like Wazuh), or returns the error. */
export function compileStartPattern(pattern: string): RegExp | string {
  const r = compilePcre2(pattern);
  return typeof r === 'string' ? r : r.re;
}

export class LineGrouper {
  private pending: GroupLine[] = [];
  private pendingId: string | undefined;
  private lastLineAt = 0;
  private lastEnd = -1;
  private readonly start: RegExp | undefined;

  constructor(
    readonly spec: MultilineSpec,
    private readonly now: () => number = Date.now,
  ) {
    if (spec.kind === 'regex') {
      const re = compileStartPattern(spec.start);
      if (typeof re === 'string') throw new Error(`multi-line start pattern: ${re}`);
      this.start = re;
    }
  }

  /** Offset where the unfinished record starts, or undefined when nothing is pending. */
  get pendingStart(): number | undefined {
    return this.pending[0]?.start;
  }

  /** Milliseconds since the last line came. */
  idleMs(): number {
    return this.now() - this.lastLineAt;
  }

  /** File offset right after the last line seen. */
  get consumed(): number {
    return this.lastEnd;
  }

  /** Feeds one line; returns the records it completes (in order). */
  push(line: GroupLine): GroupRecord[] {
    const out: GroupRecord[] = [];
    // Offsets going back: the file was truncated or rewritten. What was pending is complete.
    if (line.start < this.lastEnd) this.flushInto(out);
    this.lastEnd = line.end;
    this.lastLineAt = this.now();
    const spec = this.spec;
    if (spec.kind === 'lines') {
      this.pending.push(line);
      if (this.pending.length >= spec.lines) this.flushInto(out, true);
      return out;
    }
    if (spec.kind === 'audit') {
      const id = AUDIT_ID.exec(line.text)?.[1];
      if (this.pending.length && (id === undefined || id !== this.pendingId)) this.flushInto(out);
      this.pending.push(line);
      this.pendingId = id;
      // A line without an event id stands alone.
      if (id === undefined || this.pending.length >= AUDIT_MAX_LINES) this.flushInto(out, id !== undefined);
      return out;
    }
    const startsRecord = this.start!.test(line.text);
    if (startsRecord && this.pending.length) this.flushInto(out);
    this.pending.push(line);
    if (this.pending.length >= spec.maxLines) this.flushInto(out, true);
    return out;
  }

  /** The pending record, if no line came for the timeout (`lines` records wait for their N lines). */
  flushDue(): GroupRecord[] {
    const out: GroupRecord[] = [];
    if (!this.pending.length || this.spec.kind === 'lines') return out;
    if (this.now() - this.lastLineAt >= this.spec.timeoutMs) this.flushInto(out);
    return out;
  }

  /** Whatever is pending, as a record (the file is finished). */
  flush(): GroupRecord[] {
    const out: GroupRecord[] = [];
    this.flushInto(out);
    return out;
  }

  private flushInto(out: GroupRecord[], full = false): void {
    if (!this.pending.length) return;
    const spec = this.spec;
    const sep = spec.kind === 'regex' ? JOINERS[spec.join] : ' ';
    const rec: GroupRecord = { text: this.pending.map((l) => l.text).join(sep), end: this.pending[this.pending.length - 1]!.end };
    if (full) rec.full = true;
    out.push(rec);
    this.pending = [];
    this.pendingId = undefined;
  }
}
