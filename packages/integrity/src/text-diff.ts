/**
 * Line diff of two texts in unified format (`diff -u`), Myers' O(ND) algorithm. Inputs are
 * small configuration files, but they are whatever is on disk, so every cost is bounded: the
 * edit distance searched (beyond it the differing middle is shown as replaced wholesale), the
 * characters shown per line, and the size of the output.
 */

export interface UnifiedDiffOptions {
  /** Unchanged lines shown around each change (default 3, like `diff -u`). */
  context?: number;
  /** Largest edit distance searched exactly (default 1000); beyond it the result is `approximate`. */
  maxEditDistance?: number;
  /** Longer lines are shown cut, with the number of characters left out (default 1000). */
  maxLineChars?: number;
  /** Hunks stop once the output reaches this many characters (default 32768); `truncated` says so. */
  maxOutputChars?: number;
  /** Names on the `---` and `+++` lines (default `before` and `after`). */
  labels?: readonly [string, string];
}

export interface TextDiff {
  /** The unified diff, headers included; `''` when the texts are equal. */
  diff: string;
  /** Lines added and removed (all of them, also those beyond a truncated output). */
  added: number;
  removed: number;
  /** The output was cut at `maxOutputChars`. */
  truncated: boolean;
  /** The edit distance exceeded `maxEditDistance`: the changed middle is shown as removed then added. */
  approximate: boolean;
}

interface Lines {
  lines: string[];
  /** The text does not end with a newline (its last line is then marked like GNU diff does). */
  noFinalNewline: boolean;
}

/** Splits on `\n` only: a `\r` of a CRLF file stays in its line, so a CRLF/LF conversion is a change. */
export function splitLines(text: string): Lines {
  if (text === '') return { lines: [], noFinalNewline: false };
  const lines = text.split('\n');
  const noFinalNewline = lines[lines.length - 1] !== '';
  if (!noFinalNewline) lines.pop();
  return { lines, noFinalNewline };
}

const EQUAL = 0;
const DELETE = 1;
const INSERT = 2;

/**
 * Shortest edit script of `a` into `b` (Myers 1986, greedy forward search with the V arrays of
 * each step kept for the backtrack: O((N+M)D) time, O(D^2) memory). Undefined when the edit
 * distance exceeds `maxD`.
 */
function myers(a: Int32Array, b: Int32Array, maxD: number): Uint8Array | undefined {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  const limit = Math.min(max, maxD);
  for (let d = 0; d <= limit; d++) {
    // V as it was before step d, over the diagonals step d reads: [-d-1, d+1].
    trace.push(v.slice(offset - d - 1, offset + d + 2));
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) return backtrack(trace, n, m);
    }
  }
  return undefined;
}

function backtrack(trace: Int32Array[], n: number, m: number): Uint8Array {
  const ops: number[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const vd = trace[d]!;
    const at = (k: number) => vd[k + d + 1]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push(EQUAL);
      x--;
      y--;
    }
    if (d > 0) {
      ops.push(x === prevX ? INSERT : DELETE);
      x = prevX;
      y = prevY;
    }
  }
  return Uint8Array.from(ops.reverse());
}

function show(line: string, max: number): string {
  return line.length > max ? `${line.slice(0, max)}… [${line.length - max} more characters]` : line;
}

function range(start: number, len: number): string {
  // GNU diff: an empty range names the line before it; a one-line range omits its length.
  const first = len === 0 ? start : start + 1;
  return len === 1 ? `${first}` : `${first},${len}`;
}

/** Unified diff of two texts. Equal texts give an empty `diff`. */
export function unifiedDiff(before: string, after: string, opts: UnifiedDiffOptions = {}): TextDiff {
  const context = opts.context ?? 3;
  const maxLine = opts.maxLineChars ?? 1000;
  const maxOut = opts.maxOutputChars ?? 32768;
  const A = splitLines(before);
  const B = splitLines(after);
  // Lines become integers (equal text, equal number), so the search compares numbers. A last line
  // without its newline is a different line from the same text with one, as for GNU diff.
  const ids = new Map<string, number>();
  const intern = (l: Lines): Int32Array => {
    const out = new Int32Array(l.lines.length);
    l.lines.forEach((s, i) => {
      const key = i === l.lines.length - 1 && l.noFinalNewline ? `${s}\0no-newline` : s;
      let id = ids.get(key);
      if (id === undefined) ids.set(key, (id = ids.size));
      out[i] = id;
    });
    return out;
  };
  const a = intern(A);
  const b = intern(B);
  // The common head and tail cost nothing to find and shrink the search to the changed middle.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const midA = a.subarray(head, a.length - tail);
  const midB = b.subarray(head, b.length - tail);
  let mid = myers(midA, midB, opts.maxEditDistance ?? 1000);
  const approximate = mid === undefined;
  mid ??= Uint8Array.from([...new Array<number>(midA.length).fill(DELETE), ...new Array<number>(midB.length).fill(INSERT)]);
  const ops = new Uint8Array(head + mid.length + tail);
  ops.set(mid, head);
  let added = 0;
  let removed = 0;
  for (const op of mid) {
    if (op === INSERT) added++;
    else if (op === DELETE) removed++;
  }
  if (added === 0 && removed === 0) return { diff: '', added, removed, truncated: false, approximate: false };

  // Positions of every op in a and b, then hunks: runs of changes closer than 2*context apart.
  const ai = new Int32Array(ops.length + 1);
  const bi = new Int32Array(ops.length + 1);
  for (let i = 0, x = 0, y = 0; i <= ops.length; i++) {
    ai[i] = x;
    bi[i] = y;
    const op = ops[i];
    if (op === EQUAL || op === DELETE) x++;
    if (op === EQUAL || op === INSERT) y++;
  }
  const [la, lb] = opts.labels ?? ['before', 'after'];
  const out: string[] = [`--- ${la}`, `+++ ${lb}`];
  let size = out[0]!.length + out[1]!.length + 2;
  let truncated = false;
  let i = 0;
  while (i < ops.length && !truncated) {
    while (i < ops.length && ops[i] === EQUAL) i++;
    if (i >= ops.length) break;
    const start = Math.max(0, i - context);
    let end = i;
    // Extend while the next change is within 2*context equal lines.
    for (;;) {
      while (end < ops.length && ops[end] !== EQUAL) end++;
      let gap = end;
      while (gap < ops.length && ops[gap] === EQUAL && gap - end < 2 * context) gap++;
      if (gap < ops.length && ops[gap] !== EQUAL) end = gap;
      else {
        end = Math.min(ops.length, end + context);
        break;
      }
    }
    const lenA = ai[end]! - ai[start]!;
    const lenB = bi[end]! - bi[start]!;
    const hunk: string[] = [`@@ -${range(ai[start]!, lenA)} +${range(bi[start]!, lenB)} @@`];
    for (let j = start; j < end; j++) {
      const op = ops[j];
      if (op === EQUAL || op === DELETE) {
        const x = ai[j]!;
        hunk.push(`${op === EQUAL ? ' ' : '-'}${show(A.lines[x]!, maxLine)}`);
        if (x === A.lines.length - 1 && A.noFinalNewline) hunk.push('\\ No newline at end of file');
      } else {
        const y = bi[j]!;
        hunk.push(`+${show(B.lines[y]!, maxLine)}`);
        if (y === B.lines.length - 1 && B.noFinalNewline) hunk.push('\\ No newline at end of file');
      }
    }
    for (const line of hunk) {
      if (size + line.length + 1 > maxOut) {
        truncated = true;
        break;
      }
      out.push(line);
      size += line.length + 1;
    }
    i = end;
  }
  if (truncated) out.push(`\\ diff truncated at ${maxOut} characters`);
  return { diff: `${out.join('\n')}\n`, added, removed, truncated, approximate };
}

/**
 * Whether bytes read from a file are text worth diffing: valid UTF-8 without NUL bytes. Binary
 * files (and other encodings) are reported as skipped rather than shown as garbage.
 */
export function decodeText(bytes: Uint8Array): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
