import RE2 from 're2';

/**
 * One compiled pattern, whatever engine runs it. Inputs are "byte strings" (one char per byte,
 * 0-255), so that patterns see the same bytes ModSecurity's PCRE sees.
 */
export interface CompiledRegex {
  readonly source: string;
  test(input: string): boolean;
  /** Whole match then groups (undefined for groups that did not take part), or null. */
  exec(input: string): (string | undefined)[] | null;
}

/**
 * `js`: V8 (fast, backtracking); `re2`: linear time, for untrusted sources; `auto`: V8 except for
 * patterns whose shape allows polynomial or exponential backtracking, which go to re2 (V8 has no
 * match limit like PCRE's, so one such CRS pattern can take minutes on a crafted value).
 */
export type RegexEngine = 'js' | 're2' | 'auto';

export class RegexSyntaxError extends Error {}

const POSIX: Record<string, string> = {
  alpha: 'a-zA-Z',
  digit: '0-9',
  alnum: 'a-zA-Z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  space: '\\t\\n\\v\\f\\r ',
  blank: ' \\t',
  punct: '!-\\/:-@\\[-`{-~',
  xdigit: '0-9A-Fa-f',
  word: '\\w',
  cntrl: '\\x00-\\x1f\\x7f',
  print: '\\x20-\\x7e',
  graph: '\\x21-\\x7e',
};

const PCRE_SPACE = '\\t\\n\\v\\f\\r ';

function isLetter(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

function otherCase(c: string): string {
  return c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase();
}

/**
 * Translates the PCRE dialect CRS is written in to a V8 (Node 20, no `u` flag) pattern:
 * leading `(?i)`/`(?s)` become flags, `(?i:…)` groups are expanded by hand because Node 20
 * has no modifier groups, `\x{HH}`, `\z`, `\A`, POSIX classes and possessive quantifiers are
 * rewritten, and `\s` is narrowed to PCRE's ASCII set (V8's includes \xa0).
 */
export function translatePcre(pattern: string): { source: string; flags: string } {
  let i = 0;
  let globalI = false;
  // Leading inline flags apply to the whole pattern.
  for (;;) {
    const m = /^\(\?([imsx]+)\)/.exec(pattern.slice(i));
    if (!m) break;
    for (const f of m[1]!) {
      if (f === 'i') globalI = true;
      else if (f === 'x') throw new RegexSyntaxError('extended mode (?x) is not supported');
    }
    i += m[0].length;
  }
  let out = '';
  // Case-insensitivity of each open group; the top entry is the current scope.
  const ci: boolean[] = [globalI];
  const cur = () => ci[ci.length - 1]!;
  const n = pattern.length;
  let lastWasAtom = false;

  const escapeOutside = (c: string): string => {
    switch (c) {
      case 'z':
        return '(?![\\s\\S])';
      case 'Z':
        return '(?=\\n?(?![\\s\\S]))';
      case 'A':
        return '(?<![\\s\\S])';
      case 's':
        return `[${PCRE_SPACE}]`;
      case 'S':
        return `[^${PCRE_SPACE}]`;
      case 'h':
        return '[\\t ]';
      case 'e':
        return '\\x1b';
      case 'a':
        return '\\x07';
      case 'G':
      case 'K':
      case 'R':
      case 'X':
      case 'C':
        throw new RegexSyntaxError(`\\${c} is not supported`);
      case 'p':
      case 'P':
        throw new RegexSyntaxError('Unicode properties are not supported in byte mode');
      default:
        return `\\${c}`;
    }
  };

  const readHexBrace = (): string => {
    // at pattern[i] === '{'
    const close = pattern.indexOf('}', i);
    if (close < 0) throw new RegexSyntaxError('unterminated \\x{');
    const hex = pattern.slice(i + 1, close);
    if (!/^[0-9a-fA-F]{1,6}$/.test(hex)) throw new RegexSyntaxError(`bad \\x{${hex}}`);
    const v = Number.parseInt(hex, 16);
    i = close + 1;
    if (v > 0xff) return `\\u${v.toString(16).padStart(4, '0')}`;
    return `\\x${v.toString(16).padStart(2, '0')}`;
  };

  while (i < n) {
    const c = pattern[i]!;
    if (c === '\\') {
      const d = pattern[i + 1];
      if (d === undefined) throw new RegexSyntaxError('trailing backslash');
      i += 2;
      if (d === 'x' && pattern[i] === '{') out += readHexBrace();
      else if (d === 'Q') {
        const end = pattern.indexOf('\\E', i);
        const lit = end < 0 ? pattern.slice(i) : pattern.slice(i, end);
        i = end < 0 ? n : end + 2;
        for (const ch of lit) out += cur() && isLetter(ch) && !globalI ? `[${ch}${otherCase(ch)}]` : ch.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
      } else if (d === 'E') {
        // stray \E is a no-op in PCRE
      } else out += escapeOutside(d);
      lastWasAtom = true;
      continue;
    }
    if (c === '[') {
      i = translateClass(pattern, i, cur() && !globalI, (s) => (out += s));
      lastWasAtom = true;
      continue;
    }
    if (c === '(') {
      if (pattern[i + 1] === '?') {
        const rest = pattern.slice(i + 2);
        const flagGroup = /^(-?[imsx]+|[imsx]+-[imsx]+)([:)])/.exec(rest);
        if (flagGroup) {
          const spec = flagGroup[1]!;
          const neg = spec.indexOf('-');
          const on = neg < 0 ? spec : spec.slice(0, neg);
          const off = neg < 0 ? '' : spec.slice(neg + 1);
          if (on.includes('x')) throw new RegexSyntaxError('extended mode (?x) is not supported');
          let next = cur();
          if (on.includes('i')) next = true;
          if (off.includes('i')) next = false;
          if (flagGroup[2] === ':') {
            ci.push(next);
            out += '(?:';
            i += 2 + flagGroup[0].length;
            lastWasAtom = false;
          } else {
            ci[ci.length - 1] = next;
            i += 2 + flagGroup[0].length;
          }
          if (next !== globalI && globalI) throw new RegexSyntaxError('turning (?i) off inside a case-insensitive pattern is not supported');
          continue;
        }
        if (rest.startsWith('#')) {
          const close = pattern.indexOf(')', i);
          i = close < 0 ? n : close + 1;
          continue;
        }
        if (rest.startsWith('P<')) {
          out += '(?<';
          i += 4;
        } else if (rest.startsWith('>')) {
          // Atomic groups have no V8 form; a plain group matches the same strings here.
          out += '(?:';
          i += 3;
        } else if (rest.startsWith(':') || rest.startsWith('=') || rest.startsWith('!')) {
          out += `(?${rest[0]}`;
          i += 3;
        } else if (rest.startsWith('<=') || rest.startsWith('<!')) {
          out += `(?${rest.slice(0, 2)}`;
          i += 4;
        } else if (rest.startsWith('<')) {
          out += '(?<';
          i += 3;
        } else if (rest.startsWith('|')) throw new RegexSyntaxError('branch reset groups are not supported');
        else throw new RegexSyntaxError(`unsupported group (?${rest.slice(0, 3)}`);
      } else {
        out += '(';
        i += 1;
      }
      ci.push(cur());
      lastWasAtom = false;
      continue;
    }
    if (c === ')') {
      if (ci.length <= 1) throw new RegexSyntaxError('unmatched )');
      ci.pop();
      out += ')';
      i += 1;
      lastWasAtom = true;
      continue;
    }
    if (c === '*' || c === '+' || c === '?') {
      out += c;
      i += 1;
      if (pattern[i] === '+') i += 1; // possessive: greedy matches the same strings for CRS's uses
      else if (pattern[i] === '?') {
        out += '?';
        i += 1;
      }
      lastWasAtom = false;
      continue;
    }
    if (c === '{') {
      const q = /^\{(\d*)(,?)(\d*)\}/.exec(pattern.slice(i));
      if (q && lastWasAtom && (q[1] !== '' || q[3] !== '')) {
        // PCRE allows {,n}; JS needs an explicit 0.
        out += `{${q[1] === '' ? '0' : q[1]}${q[2]}${q[3]}}`;
        i += q[0].length;
        if (pattern[i] === '+') i += 1;
        else if (pattern[i] === '?') {
          out += '?';
          i += 1;
        }
        lastWasAtom = false;
        continue;
      }
      out += '\\{';
      i += 1;
      lastWasAtom = true;
      continue;
    }
    if (c === '}') {
      out += '\\}';
      i += 1;
      lastWasAtom = true;
      continue;
    }
    if (c === '/') {
      out += '\\/';
      i += 1;
      lastWasAtom = true;
      continue;
    }
    if (cur() && !globalI && isLetter(c)) out += `[${c}${otherCase(c)}]`;
    else out += c;
    i += 1;
    lastWasAtom = c !== '|' && c !== '^' && c !== '$';
  }
  if (ci.length !== 1) throw new RegexSyntaxError('missing )');
  return { source: out, flags: `${globalI ? 'i' : ''}sm` };
}

/** Translates one character class starting at `start` ('['); returns the index after it. */
function translateClass(p: string, start: number, foldCase: boolean, emit: (s: string) => void): number {
  let i = start + 1;
  let out = '[';
  if (p[i] === '^') {
    out += '^';
    i += 1;
  }
  // A leading ']' is literal in PCRE.
  if (p[i] === ']') {
    out += '\\]';
    i += 1;
  }
  const extra: string[] = [];
  let prevLiteral: string | null = null;
  while (i < p.length && p[i] !== ']') {
    const c = p[i]!;
    if (c === '[' && p[i + 1] === ':') {
      const m = /^\[:(\^?)([a-z]+):\]/.exec(p.slice(i));
      if (m) {
        const body = POSIX[m[2]!];
        if (body === undefined) throw new RegexSyntaxError(`unknown POSIX class [:${m[2]}:]`);
        if (m[1]) throw new RegexSyntaxError('negated POSIX classes are not supported');
        out += body;
        i += m[0].length;
        prevLiteral = null;
        continue;
      }
    }
    if (c === '\\') {
      const d = p[i + 1];
      if (d === undefined) throw new RegexSyntaxError('trailing backslash');
      i += 2;
      if (d === 'x' && p[i] === '{') {
        const close = p.indexOf('}', i);
        if (close < 0) throw new RegexSyntaxError('unterminated \\x{');
        const v = Number.parseInt(p.slice(i + 1, close), 16);
        if (Number.isNaN(v)) throw new RegexSyntaxError('bad \\x{}');
        i = close + 1;
        out += v > 0xff ? `\\u${v.toString(16).padStart(4, '0')}` : `\\x${v.toString(16).padStart(2, '0')}`;
        prevLiteral = null;
      } else if (d === 's') out += PCRE_SPACE;
      else if (d === 'h') out += '\\t ';
      else if (d === 'e') out += '\\x1b';
      else if (d === 'a') out += '\\x07';
      else if (d === 'p' || d === 'P') throw new RegexSyntaxError('Unicode properties are not supported in byte mode');
      else {
        out += `\\${d}`;
        prevLiteral = isLetter(d) ? null : d;
      }
      continue;
    }
    if (c === '[') {
      out += '\\[';
      i += 1;
      prevLiteral = '[';
      continue;
    }
    if (c === '-' && prevLiteral !== null && p[i + 1] !== ']' && p[i + 1] !== undefined) {
      const hi = p[i + 1]!;
      if (foldCase && isLetter(prevLiteral) && isLetter(hi)) {
        extra.push(`${otherCase(prevLiteral)}-${otherCase(hi)}`);
      }
      out += '-';
      i += 1;
      prevLiteral = null;
      continue;
    }
    if (foldCase && isLetter(c)) extra.push(otherCase(c));
    out += c;
    prevLiteral = c;
    i += 1;
  }
  if (p[i] !== ']') throw new RegexSyntaxError('missing ]');
  emit(`${out}${extra.join('')}]`);
  return i + 1;
}

class JsRegex implements CompiledRegex {
  readonly re: RegExp;
  constructor(
    readonly source: string,
    translated: { source: string; flags: string },
  ) {
    this.re = new RegExp(translated.source, translated.flags);
  }
  test(input: string): boolean {
    return this.re.test(input);
  }
  exec(input: string): (string | undefined)[] | null {
    return this.re.exec(input);
  }
}

/**
 * UTF-8 bytes of recent re2 inputs. node-re2 converts a string argument to UTF-8 on every call
 * (~0.7 µs for a 60-byte header), and one value meets dozens of re2 patterns in a CRS request;
 * given the bytes, the same call costs ~0.2 µs. Same bytes, so the same verdict. Bounded.
 */
const utf8Cache = new Map<string, Buffer>();
let utf8CacheBytes = 0;
const UTF8_CACHE_ENTRIES = 1024;
const UTF8_CACHE_BYTES = 8 << 20;
const UTF8_CACHE_MAX_INPUT = 256 << 10;

function utf8Bytes(s: string): Buffer {
  let b = utf8Cache.get(s);
  if (b === undefined) {
    b = Buffer.from(s, 'utf8');
    if (s.length <= UTF8_CACHE_MAX_INPUT) {
      if (utf8Cache.size >= UTF8_CACHE_ENTRIES || utf8CacheBytes + b.length > UTF8_CACHE_BYTES) {
        utf8Cache.clear();
        utf8CacheBytes = 0;
      }
      utf8Cache.set(s, b);
      utf8CacheBytes += b.length;
    }
  }
  return b;
}

class Re2Regex implements CompiledRegex {
  private readonly re: RE2;
  constructor(readonly source: string) {
    // re2 understands PCRE's (?i), \x{HH}, \z and (?i:…) itself; only the dotall flag is ours.
    this.re = new RE2(source, 'sm');
  }
  test(input: string): boolean {
    return this.re.test(utf8Bytes(input));
  }
  exec(input: string): (string | undefined)[] | null {
    const m = this.re.exec(input);
    return m ? Array.from(m) : null;
  }
}

/**
 * Inputs up to this length go to V8 even for backtracking-prone patterns: the worst CRS case
 * (941160, quartic) costs about 0.2 ms at 32 bytes but 50 ms at 128, while re2's per-call
 * overhead would triple the cost of the many short values a request carries.
 */
export const HYBRID_JS_MAX_INPUT = 32;

class HybridRegex implements CompiledRegex {
  readonly source: string;
  constructor(
    readonly js: JsRegex,
    private readonly re2: CompiledRegex,
  ) {
    this.source = js.source;
  }
  test(input: string): boolean {
    return input.length <= HYBRID_JS_MAX_INPUT ? this.js.test(input) : this.re2.test(input);
  }
  exec(input: string): (string | undefined)[] | null {
    return input.length <= HYBRID_JS_MAX_INPUT ? this.js.exec(input) : this.re2.exec(input);
  }
}

/**
 * Counts unbounded quantifiers (`*`, `+`, `{n,}`) outside character classes, and whether one
 * applies to a group that itself holds one (nesting). Several unbounded quantifiers in a row
 * over overlapping classes backtrack polynomially (CRS 941160 on `<[[[[…`); nesting can go
 * exponential.
 */
export function backtrackingRisk(pattern: string): { unbounded: number; nested: boolean } {
  let unbounded = 0;
  let nested = false;
  let inClass = false;
  const groupHasQuant: boolean[] = [false];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      if (pattern[i + 1] === '^') i++;
      if (pattern[i + 1] === ']') i++;
      continue;
    }
    if (c === '(') {
      groupHasQuant.push(false);
      continue;
    }
    const quant = c === '*' || c === '+' || (c === '{' && /^\{\d+,\}/.test(pattern.slice(i, i + 12)));
    if (c === ')') {
      const inner = groupHasQuant.pop() ?? false;
      const next = pattern[i + 1];
      if (inner && (next === '*' || next === '+' || (next === '{' && /^\{\d+,\}/.test(pattern.slice(i + 1, i + 13))))) nested = true;
      if (inner) groupHasQuant[groupHasQuant.length - 1] = true;
      continue;
    }
    if (quant) {
      unbounded++;
      groupHasQuant[groupHasQuant.length - 1] = true;
    }
  }
  return { unbounded, nested };
}

/** Whether `auto` sends a pattern to re2. */
export function prefersLinearEngine(pattern: string): boolean {
  const r = backtrackingRisk(pattern);
  return r.nested || r.unbounded >= 2;
}

/**
 * Compiles each distinct pattern once per engine: CRS repeats patterns across rules and the
 * CrowdSec loader repeats them across zones.
 */
export class RegexCache {
  private readonly cache = new Map<string, CompiledRegex>();
  compile(pattern: string, engine: RegexEngine): CompiledRegex {
    const key = `${engine}\u0000${pattern}`;
    let re = this.cache.get(key);
    if (!re) {
      if (engine === 'auto') {
        const js = this.compile(pattern, 'js') as JsRegex;
        re = prefersLinearEngine(pattern) && re2Accepts(pattern) ? new HybridRegex(js, this.compile(pattern, 're2')) : js;
        this.cache.set(key, re);
        return re;
      }
      if (engine === 're2') {
        try {
          re = new Re2Regex(pattern);
        } catch (err) {
          throw new RegexSyntaxError((err as Error).message);
        }
      } else {
        const t = translatePcre(pattern);
        try {
          re = new JsRegex(pattern, t);
        } catch (err) {
          throw new RegexSyntaxError((err as Error).message);
        }
      }
      this.cache.set(key, re);
    }
    return re;
  }
}

/**
 * The V8 RegExp behind a pattern and the longest input it may be given (longer inputs must go
 * through `test()`), so hot callers can test without going through the wrapper objects. The
 * RegExp has no `g` or `y` flag, so `test()` neither reads nor moves `lastIndex`.
 */
export function nativeRegExp(re: CompiledRegex): { re: RegExp; maxInput: number } | undefined {
  if (re instanceof JsRegex) return { re: re.re, maxInput: Number.POSITIVE_INFINITY };
  if (re instanceof HybridRegex) return { re: re.js.re, maxInput: HYBRID_JS_MAX_INPUT };
  return undefined;
}

function re2Accepts(pattern: string): boolean {
  try {
    new RE2(pattern, 'sm');
    return true;
  } catch {
    return false;
  }
}
