/**
 * A cheap necessary condition for a regex: a literal every match must contain. Checking it with
 * `includes` first skips most regex runs (and the quadratic scans some unanchored patterns do on
 * lines that cannot match).
 */
export interface LiteralPrefilter {
  /** The literal, lower-cased when `caseInsensitive`. */
  literal: string;
  caseInsensitive: boolean;
}

const CACHE = 32;
const cacheIn: string[] = new Array<string>(CACHE).fill('');
const cacheOut: string[] = new Array<string>(CACHE).fill('');
let cacheNext = 0;
let cacheUsed = 0;

/**
 * Lower-cases `s`, remembering the last inputs: the patterns of one event test the same log line
 * and a handful of long field values over and over.
 */
export function lowerOf(s: string): string {
  // Most short values (field values) are lower-case ASCII already: a scan is cheaper than a
  // call into toLowerCase, and they stay out of the cache.
  if (s.length < 64) {
    let plain = true;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if ((c >= 65 && c <= 90) || c > 127) {
        plain = false;
        break;
      }
    }
    // Short values with capitals (`Security`, `GET`) are compared by many sibling rules: cached too.
    if (plain) return s;
  }
  // Newest first: the log line of the current event is the usual hit.
  for (let n = 0, i = (cacheNext + CACHE - 1) % CACHE; n < cacheUsed; n++, i = (i + CACHE - 1) % CACHE)
    if (cacheIn[i] === s) return cacheOut[i]!;
  const out = s.toLowerCase();
  cacheIn[cacheNext] = s;
  cacheOut[cacheNext] = out;
  cacheNext = (cacheNext + 1) % CACHE;
  if (cacheUsed < CACHE) cacheUsed++;
  return out;
}

/**
 * Forgets the cached lower-case copies. Called when a new event starts: its strings are new, and
 * comparing them with the last event's strings of the same length would compare their contents.
 */
export function resetLowerCache(): void {
  cacheUsed = 0;
}

export function passesPrefilter(p: LiteralPrefilter | undefined, s: string): boolean {
  if (!p) return true;
  return (p.caseInsensitive ? lowerOf(s) : s).includes(p.literal);
}

const SAFE_ESCAPED = /[^A-Za-z0-9]/;

/**
 * Longest literal run of a JS regex source that every match must contain, or undefined when
 * the pattern has top-level alternation or no run of at least 3 characters. Only top-level
 * characters count (a group may be optional or alternated); a character followed by `?`, `*` or
 * `{` is optional and breaks the run.
 */
export function requiredLiteral(source: string, caseInsensitive: boolean): LiteralPrefilter | undefined {
  let depth = 0;
  let inClass = false;
  let best = '';
  let cur = '';
  const flush = (): void => {
    if (cur.length > best.length) best = cur;
    cur = '';
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (inClass) {
      if (c === '\\') i++;
      else if (c === ']') inClass = false;
      continue;
    }
    let lit: string | undefined;
    let width = 1;
    if (c === '\\') {
      const e = source[i + 1];
      if (e === undefined) return undefined;
      if (SAFE_ESCAPED.test(e)) lit = e;
      width = 2;
      // Escapes with a payload (\uXXXX, \u{...}, \xXX, \cX, \k<name>) are no literal text here.
      if (e === 'u') width += source[i + 2] === '{' ? source.indexOf('}', i) - i - 1 : 4;
      else if (e === 'x') width += 2;
      else if (e === 'c') width += 1;
      else if (e === 'k' && source[i + 2] === '<') width = source.indexOf('>', i) - i + 1;
    } else if (c === '[') {
      inClass = true;
      flush();
      continue;
    } else if (c === '(') {
      depth++;
      flush();
      continue;
    } else if (c === ')') {
      depth--;
      flush();
      continue;
    } else if (c === '|') {
      if (depth === 0) return undefined;
      flush();
      continue;
    } else if (!/[.^$*+?{}]/.test(c)) lit = c;
    const next = source[i + width];
    const optional = next === '?' || next === '*' || next === '{';
    if (lit !== undefined && depth === 0 && !optional) cur += lit;
    else flush();
    if (next === '+' && lit !== undefined && depth === 0) flush();
    i += width - 1;
  }
  flush();
  if (best.length < 3) return undefined;
  return { literal: caseInsensitive ? best.toLowerCase() : best, caseInsensitive };
}
