/**
 * A byte pattern as both ClamAV hex signatures and YARA strings describe it: literal runs,
 * nibble-masked bytes, alternatives and bounded/unbounded gaps. Matching starts from a literal
 * anchor found by the multi-pattern filter and extends left and right from it, so the
 * expensive part (wildcards, gaps, alternatives) only runs where the anchor already matched.
 */
export type PatternToken =
  | { t: 'lit'; bytes: Uint8Array; fold: boolean }
  | { t: 'mask'; value: number; mask: number }
  | { t: 'alt'; options: PatternToken[][]; negate: boolean }
  | { t: 'gap'; min: number; max: number };

/** Where the anchor sits: inside token `token` (a `lit`), bytes [from, from+length). */
export interface Anchor {
  bytes: Uint8Array;
  fold: boolean;
  /** Index of the lit token holding the anchor and the anchor's start inside it. */
  token: number;
  from: number;
  /** Offset inside `bytes` of the (up to) 4-byte window the multi-pattern filter keys on. */
  keyOffset: number;
}

const LOWER = new Uint8Array(256);
for (let i = 0; i < 256; i++) LOWER[i] = i >= 65 && i <= 90 ? i + 32 : i;
export const lowerByte: Readonly<Uint8Array> = LOWER;

/** Upper bound of steps one anchor verification may take; hostile patterns/data cannot hang a scan. */
const STEP_BUDGET = 1_000_000;

export class BytePattern {
  readonly tokens: PatternToken[];
  readonly anchor: Anchor | undefined;
  /** Tokens before the anchor in reverse order (alternatives too), for the leftward match. */
  private readonly left: PatternToken[];
  private readonly right: PatternToken[];
  /** Smallest possible length of the whole pattern; used to reject hopeless candidates early. */
  readonly minLength: number;
  /** Steps the last verification took (the engine budgets them per file). */
  steps = 0;

  /** Whether the last verification gave up on its step budget (its answer may be a false "no"). */
  get exhausted(): boolean {
    return this.steps > STEP_BUDGET;
  }

  constructor(tokens: PatternToken[]) {
    this.tokens = mergeLiterals(tokens);
    this.anchor = chooseAnchor(this.tokens);
    this.minLength = this.tokens.reduce((n, t) => n + minLen(t), 0);
    if (this.anchor) {
      const a = this.anchor;
      const tok = this.tokens[a.token] as Extract<PatternToken, { t: 'lit' }>;
      const before: PatternToken[] = this.tokens.slice(0, a.token);
      if (a.from > 0) before.push({ t: 'lit', bytes: tok.bytes.subarray(0, a.from), fold: tok.fold });
      const after: PatternToken[] = [];
      const end = a.from + a.bytes.length;
      if (end < tok.bytes.length) after.push({ t: 'lit', bytes: tok.bytes.subarray(end), fold: tok.fold });
      after.push(...this.tokens.slice(a.token + 1));
      this.left = reverseTokens(before);
      this.right = after;
    } else {
      this.left = [];
      this.right = this.tokens;
    }
  }

  /**
   * Tries the pattern with its anchor starting at `anchorPos`. Calls `onMatch(start, end)` for
   * matches until it returns true (accepted); returns whether one was accepted. With
   * `all`, every distinct start is reported (YARA counts), otherwise the first accepted wins.
   */
  matchAtAnchor(
    buf: Uint8Array,
    anchorPos: number,
    accept: (start: number, end: number) => boolean,
  ): boolean {
    const a = this.anchor!;
    const n = a.bytes.length;
    if (anchorPos < 0 || anchorPos + n > buf.length) return false;
    if (!litEq(buf, anchorPos, a.bytes, a.fold)) return false;
    this.steps = 0;
    const rightStart = anchorPos + n;
    // The right side does not depend on where the left side starts, except through `accept`
    // (offset checks look at the start, fullword looks at both ends), so both are enumerated.
    return this.walk(buf, anchorPos, this.left, 0, -1, (start) =>
      this.walk(buf, rightStart, this.right, 0, 1, (end) => accept(start, end)),
    );
  }

  /** Matches the whole pattern with its first byte at `start` (patterns without an anchor). */
  matchAt(buf: Uint8Array, start: number, accept: (start: number, end: number) => boolean): boolean {
    this.steps = 0;
    return this.walk(buf, start, this.tokens, 0, 1, (end) => accept(start, end));
  }

  /** Depth-first over the token list; `dir` -1 walks leftwards over reversed tokens. */
  private walk(
    buf: Uint8Array,
    pos: number,
    toks: PatternToken[],
    i: number,
    dir: 1 | -1,
    done: (pos: number) => boolean,
  ): boolean {
    for (; i < toks.length; i++) {
      if (++this.steps > STEP_BUDGET) return false;
      const tk = toks[i]!;
      switch (tk.t) {
        case 'lit': {
          const len = tk.bytes.length;
          const at = dir === 1 ? pos : pos - len;
          if (at < 0 || at + len > buf.length || !litEq(buf, at, tk.bytes, tk.fold)) return false;
          pos = dir === 1 ? pos + len : at;
          break;
        }
        case 'mask': {
          const at = dir === 1 ? pos : pos - 1;
          if (at < 0 || at >= buf.length || (buf[at]! & tk.mask) !== tk.value) return false;
          pos = dir === 1 ? pos + 1 : at;
          break;
        }
        case 'alt': {
          const rest = i + 1;
          if (tk.negate) {
            // Negated alternatives are single-length options; one position that equals none.
            const len = minLen(tk.options[0]![0] ?? { t: 'gap', min: 0, max: 0 });
            const at = dir === 1 ? pos : pos - len;
            if (at < 0 || at + len > buf.length) return false;
            for (const opt of tk.options) {
              if (this.walk(buf, dir === 1 ? at : at + len, opt, 0, dir, () => true)) return false;
            }
            pos = dir === 1 ? at + len : at;
            break;
          }
          for (const opt of tk.options) {
            if (this.walk(buf, pos, opt, 0, dir, (p) => this.walk(buf, p, toks, rest, dir, done))) return true;
          }
          return false;
        }
        case 'gap': {
          const rest = i + 1;
          const limit = dir === 1 ? buf.length - pos : pos;
          const max = Math.min(tk.max, limit);
          if (tk.min > max) return false;
          // Unbounded gaps followed by a literal jump straight to the literal's occurrences.
          const next = toks[rest];
          if (next && next.t === 'lit' && !next.fold && max - tk.min > 64) {
            return this.seekLiteral(buf, pos, tk.min, max, next.bytes, dir, (p) =>
              this.walk(buf, p, toks, rest, dir, done),
            );
          }
          for (let g = tk.min; g <= max; g++) {
            if (this.walk(buf, dir === 1 ? pos + g : pos - g, toks, rest, dir, done)) return true;
            if (this.steps > STEP_BUDGET) return false;
          }
          return false;
        }
      }
    }
    return done(pos);
  }

  private seekLiteral(
    buf: Uint8Array,
    pos: number,
    min: number,
    max: number,
    lit: Uint8Array,
    dir: 1 | -1,
    cont: (p: number) => boolean,
  ): boolean {
    if (dir === 1) {
      let from = pos + min;
      const last = pos + max;
      while (from <= last) {
        const at = indexOf(buf, lit, from, last + lit.length);
        // Searching costs too: count the bytes passed over so one hostile pattern cannot
        // turn a scan quadratic without hitting the budget.
        this.steps += ((at < 0 ? last : at) - from) >> 4;
        if (at < 0) return false;
        if (cont(at)) return true;
        if (++this.steps > STEP_BUDGET) return false;
        from = at + 1;
      }
      return false;
    }
    // Leftwards: the literal must end at pos-g, i.e. start at pos-g-len.
    let to = pos - min;
    const first = pos - max;
    while (to >= first) {
      const at = lastIndexOf(buf, lit, Math.max(0, first - lit.length), to);
      this.steps += (to - (at < 0 ? first : at)) >> 4;
      if (at < 0) return false;
      if (cont(at + lit.length)) return true;
      if (++this.steps > STEP_BUDGET) return false;
      to = at + lit.length - 1;
    }
    return false;
  }
}

function litEq(buf: Uint8Array, at: number, bytes: Uint8Array, fold: boolean): boolean {
  const n = bytes.length;
  if (fold) {
    for (let k = 0; k < n; k++) if (LOWER[buf[at + k]!] !== bytes[k]) return false;
  } else {
    for (let k = 0; k < n; k++) if (buf[at + k] !== bytes[k]) return false;
  }
  return true;
}

/** First index >= from where `lit` starts and ends at or before `endLimit`. */
function indexOf(buf: Uint8Array, lit: Uint8Array, from: number, endLimit: number): number {
  const first = lit[0]!;
  const lastStart = Math.min(endLimit, buf.length) - lit.length;
  for (let i = from; i <= lastStart; i++) {
    if (buf[i] !== first) {
      const j = buf.indexOf(first, i);
      if (j < 0 || j > lastStart) return -1;
      i = j;
    }
    if (litEq(buf, i, lit, false)) return i;
  }
  return -1;
}

/** Last start in [lo, to-len] where the literal ends at or before `to`. */
function lastIndexOf(buf: Uint8Array, lit: Uint8Array, lo: number, to: number): number {
  for (let i = to - lit.length; i >= lo; i--) if (litEq(buf, i, lit, false)) return i;
  return -1;
}

export function minLen(t: PatternToken): number {
  switch (t.t) {
    case 'lit':
      return t.bytes.length;
    case 'mask':
      return 1;
    case 'gap':
      return t.min;
    case 'alt':
      return Math.min(...t.options.map((o) => o.reduce((n, x) => n + minLen(x), 0)));
  }
}

/** Pattern length when it is fixed, else undefined (YARA needs lengths for `!a`). */
export function fixedLength(tokens: PatternToken[]): number | undefined {
  let n = 0;
  for (const t of tokens) {
    if (t.t === 'gap') {
      if (t.min !== t.max) return undefined;
      n += t.min;
    } else if (t.t === 'alt') {
      const lens = t.options.map((o) => fixedLength(o));
      if (lens.some((l) => l === undefined || l !== lens[0])) return undefined;
      n += lens[0]!;
    } else n += minLen(t);
  }
  return n;
}

/**
 * Joins adjacent literals (and full-mask bytes) into one run, adjacent gaps into one gap.
 * Parsers call it too: a signature kept as one 1-byte array per byte costs kilobytes each.
 */
export function mergeLiterals(tokens: PatternToken[]): PatternToken[] {
  const out: PatternToken[] = [];
  for (const t of tokens) {
    const prev = out[out.length - 1];
    let cur: PatternToken = t;
    // A fully-specified mask byte is a literal; folding it into neighbours gives longer anchors.
    if (cur.t === 'mask' && cur.mask === 0xff) cur = { t: 'lit', bytes: Uint8Array.of(cur.value), fold: false };
    if (cur.t === 'gap' && cur.min === 0 && cur.max === 0) continue;
    if (cur.t === 'alt') cur = { t: 'alt', options: cur.options.map(mergeLiterals), negate: cur.negate };
    if (prev && prev.t === 'lit' && cur.t === 'lit' && prev.fold === cur.fold) {
      const b = new Uint8Array(prev.bytes.length + cur.bytes.length);
      b.set(prev.bytes);
      b.set(cur.bytes, prev.bytes.length);
      out[out.length - 1] = { t: 'lit', bytes: b, fold: prev.fold };
    } else if (prev && prev.t === 'gap' && cur.t === 'gap') {
      out[out.length - 1] = { t: 'gap', min: prev.min + cur.min, max: prev.max + cur.max };
    } else out.push(cur);
  }
  return out;
}

/** Commonness penalty: zero runs, 0xff and spaces are everywhere in binaries and text. */
function bytePenalty(b: number): number {
  return b === 0 ? 4 : b === 0xff ? 3 : b === 0x20 || b === 0x90 || b === 0xcc ? 2 : 0;
}

/**
 * Picks the literal run to anchor on: the longest one, and inside it (when longer than the
 * filter's window) the 4-byte window made of the least common bytes.
 */
function chooseAnchor(tokens: PatternToken[]): Anchor | undefined {
  let best: Anchor | undefined;
  let bestScore = -Infinity;
  tokens.forEach((t, idx) => {
    if (t.t !== 'lit') return;
    const len = t.bytes.length;
    const w = Math.min(4, len);
    for (let from = 0; from + w <= len; from++) {
      let pen = 0;
      const seen = new Set<number>();
      for (let k = 0; k < w; k++) {
        pen += bytePenalty(t.bytes[from + k]!);
        seen.add(t.bytes[from + k]!);
      }
      const score = w * 10 - pen - (w - seen.size) * 2 + Math.min(len, 16) * 0.1;
      if (score > bestScore) {
        bestScore = score;
        best = { bytes: t.bytes.subarray(from, from + w), fold: t.fold, token: idx, from, keyOffset: 0 };
      }
    }
  });
  if (!best) return undefined;
  // Extend the anchor over the whole literal: verification compares the rest anyway, and the
  // longer anchor rejects candidates without entering the general walker.
  const tok = tokens[best.token] as Extract<PatternToken, { t: 'lit' }>;
  return { bytes: tok.bytes, fold: tok.fold, token: best.token, from: 0, keyOffset: best.from };
}

function reverseTokens(tokens: PatternToken[]): PatternToken[] {
  return tokens
    .slice()
    .reverse()
    .map((t): PatternToken => {
      // Literals keep their byte order: the leftward walker compares them at pos-len.
      if (t.t === 'alt') return { t: 'alt', options: t.options.map(reverseTokens), negate: t.negate };
      return t;
    });
}
