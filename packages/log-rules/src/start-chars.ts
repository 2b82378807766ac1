/**
 * First-character tables: a cheap necessary condition for patterns anchored at the start.
 *
 * Most decoder prematches and many rule `<match>`es are anchored (`^Failed password`,
 * `^\d+.\d+`, `^Installed|^Updated`), so the first character of the text already rules most of
 * them out. A table has one byte per ASCII code (0..127), one for any non-ASCII character (128:
 * always 1, case folding of non-ASCII characters is left to the real matcher) and one for the
 * empty text (129). A pattern without such a table may start with anything.
 */
export type StartChars = Uint8Array;

const NON_ASCII = 128;
const EMPTY = 129;

/** Index of a text's first character (at `at`) in a start table. */
export function startIndex(s: string, at = 0): number {
  if (at >= s.length) return EMPTY;
  const c = s.charCodeAt(at);
  return c < 128 ? c : NON_ASCII;
}

function table(): Uint8Array {
  const t = new Uint8Array(130);
  t[NON_ASCII] = 1;
  return t;
}

function addCaseless(t: Uint8Array, ch: string): void {
  for (const v of [ch, ch.toLowerCase(), ch.toUpperCase()]) {
    if (v.length !== 1) continue;
    const c = v.charCodeAt(0);
    t[c < 128 ? c : NON_ASCII] = 1;
  }
}

function addRange(t: Uint8Array, from: string, to: string): void {
  for (let c = from.charCodeAt(0); c <= to.charCodeAt(0); c++) t[c] = 1;
}

const OS_PUNCT = '()*+,-.:;<=>?[]!"\'#$%&|{}';

/** The characters an os_regex class can start with, or undefined for a broad (negated) class. */
function addOsClass(t: Uint8Array, cls: string): boolean {
  switch (cls) {
    case 'w':
      addRange(t, 'A', 'Z');
      addRange(t, 'a', 'z');
      addRange(t, '0', '9');
      for (const ch of '@_-') addCaseless(t, ch);
      return true;
    case 'd':
      addRange(t, '0', '9');
      return true;
    case 's':
      t[32] = 1;
      return true;
    case 't':
      t[9] = 1;
      return true;
    case 'p':
      for (const ch of OS_PUNCT) addCaseless(t, ch);
      return true;
    default:
      return false;
  }
}

const OS_CLASSES = new Set(['w', 'W', 'd', 'D', 's', 'S', 't', 'p', '.']);

/**
 * Adds the first characters one os_regex alternative can match at the start of the text;
 * false when the alternative is not anchored or may start with anything.
 */
function addOsRegexAlternative(t: Uint8Array, alt: string): boolean {
  if (!alt.startsWith('^')) return false;
  let i = 1;
  // Groups change nothing about the first character (os_regex groups have no alternation).
  while (alt[i] === '(' || alt[i] === ')') i++;
  if (i >= alt.length) return false;
  if (alt[i] === '$' && i === alt.length - 1) return false;
  if (alt[i] === '\\') {
    const e = alt[i + 1];
    if (e === undefined) return false;
    if (OS_CLASSES.has(e)) {
      // A class that may repeat zero times can be skipped entirely.
      if (alt[i + 2] === '*') return false;
      return addOsClass(t, e);
    }
    addCaseless(t, e);
    return true;
  }
  addCaseless(t, alt[i]!);
  return true;
}

/** Splits an os_regex on the `|` that are not escaped. */
function splitOsRegex(pattern: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) {
      cur += c + pattern[i + 1];
      i++;
    } else if (c === '|') {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

/** Start table of an os_regex (case-insensitive), or undefined when any text start may match. */
export function osRegexStartChars(pattern: string): StartChars | undefined {
  const t = table();
  for (const alt of splitOsRegex(pattern)) if (!addOsRegexAlternative(t, alt)) return undefined;
  return t;
}

/** Start table of an os_match (alternatives `^text`), or undefined when not every one is anchored. */
export function osMatchStartChars(alternatives: readonly { text: string; start: boolean }[]): StartChars | undefined {
  const t = table();
  for (const a of alternatives) {
    if (!a.start || a.text === '') return undefined;
    addCaseless(t, a.text[0]!);
  }
  return t;
}

/**
 * Start table of a JavaScript regex source, for the plain shape `^literal…` only (pcre2 rules);
 * undefined for anything else.
 */
export function jsRegexStartChars(source: string, flags: string): StartChars | undefined {
  if (flags.includes('m') || source.includes('|')) return undefined;
  const m = /^\^([A-Za-z0-9 _<>=:;,'"@#%&~`-])(?![?*{])/.exec(source);
  if (!m) return undefined;
  const t = table();
  if (flags.includes('i')) addCaseless(t, m[1]!);
  else t[m[1]!.charCodeAt(0)] = 1;
  return t;
}

/** Both tables must accept: the intersection, or whichever exists. */
export function intersectStartChars(a: StartChars | undefined, b: StartChars | undefined): StartChars | undefined {
  if (!a) return b;
  if (!b) return a;
  const t = new Uint8Array(130);
  for (let i = 0; i < t.length; i++) t[i] = a[i]! & b[i]!;
  return t;
}
