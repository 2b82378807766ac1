import { lowerOf } from './literal-prefilter.ts';

/**
 * OSSEC's own regex dialect (os_regex), translated to JavaScript RegExps.
 *
 * Semantics reproduced from the OSSEC/Wazuh documentation and analysisd behaviour:
 * - case-insensitive; `|` separates alternatives, each with its own `^`/`$` anchors and its own
 *   capture groups (the first alternative that matches provides the captures);
 * - classes `\w` (letters, digits, `-`, `@`, `_`), `\d`, `\s` (space), `\t`, `\p` (punctuation),
 *   `\W \D \S` (negations), `\.` (any character); `\$ \( \) \\ \| \< \>` are literals;
 * - `+` and `*` only quantify a preceding backslash class (after a plain character they are
 *   literal). os_regex consumes a quantified class only until the next pattern element matches,
 *   i.e. lazily, except for the last element, which runs to the end of what it can match;
 * - there is no other metacharacter: `.`, `[`, `?`, `{` are literal.
 */
export interface OsRegex {
  readonly alternatives: readonly RegExp[];
  /** Number of capture groups of each alternative. */
  readonly groups: readonly number[];
  /**
   * Per alternative, the lower-cased literal runs a match must contain: os_regex has no optional
   * constructs besides quantified classes, so every plain character is mandatory.
   */
  readonly literals: readonly (readonly string[])[];
  /**
   * Per alternative, whether its literal check is worth it: not for alternatives anchored at the
   * start, which V8 tries at offset 0 only and which fail within a few characters (the literal
   * scan over the whole line costs more), unless they hold an any-character run that could
   * backtrack over the line.
   */
  readonly scan: readonly boolean[];
}

const PUNCT = '()*+,\\-.:;<=>?\\[\\]!"\'#$%&|{}';
const CLASSES: Record<string, string> = {
  w: '[A-Za-z0-9@_\\-]',
  W: '[^A-Za-z0-9@_\\-]',
  d: '[0-9]',
  D: '[^0-9]',
  s: ' ',
  S: '[^ ]',
  t: '\\t',
  p: `[${PUNCT}]`,
  '.': '[\\s\\S]',
};

function escapeLiteral(c: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c;
}

/** Returns the translated source of one alternative and its group count, or an error message. */
function translateAlternative(p: string): { source: string; groups: number; literals: string[] } | string {
  let out = '';
  let i = 0;
  let groups = 0;
  let depth = 0;
  if (p.startsWith('^')) {
    out += '^';
    i = 1;
  }
  let end = p.length;
  let anchoredEnd = false;
  if (p.endsWith('$') && !(p.length >= 2 && p[p.length - 2] === '\\' && !p.endsWith('\\\\$'))) {
    end--;
    anchoredEnd = true;
  }
  // Index of the last class token that may be quantified: it is greedy, the others lazy.
  const tokens: { text: string; quantifiable: boolean; literal?: string }[] = [];
  while (i < end) {
    const c = p[i]!;
    if (c === '\\') {
      const e = p[i + 1];
      if (e === undefined) return 'pattern ends with a lone backslash';
      const cls = CLASSES[e];
      tokens.push(cls ? { text: cls, quantifiable: true } : { text: escapeLiteral(e), quantifiable: false, literal: e });
      i += 2;
      continue;
    }
    if ((c === '+' || c === '*') && tokens.length && tokens[tokens.length - 1]!.quantifiable) {
      tokens.push({ text: c, quantifiable: false });
      i++;
      continue;
    }
    if (c === '(') {
      groups++;
      depth++;
      tokens.push({ text: '(', quantifiable: false });
      i++;
      continue;
    }
    if (c === ')') {
      if (depth === 0) return 'unbalanced ")"';
      depth--;
      tokens.push({ text: ')', quantifiable: false });
      i++;
      continue;
    }
    tokens.push({ text: escapeLiteral(c), quantifiable: false, literal: c });
    i++;
  }
  if (depth !== 0) return 'unbalanced "("';
  const literals: string[] = [];
  let run = '';
  for (const t of tokens) {
    if (t.literal !== undefined) run += t.literal;
    else if (t.text !== '(' && t.text !== ')') {
      if (run.trim()) literals.push(run.toLowerCase());
      run = '';
    }
  }
  if (run.trim()) literals.push(run.toLowerCase());
  // All are required, so the order is free: the longest (rarest) first rejects soonest.
  const unique = [...new Set(literals)].sort((a, b) => b.length - a.length);
  literals.length = 0;
  literals.push(...unique);
  // Find the last quantifier that is followed only by closing parentheses.
  let lastQuant = -1;
  for (let k = tokens.length - 1; k >= 0; k--) {
    const t = tokens[k]!.text;
    if (t === ')') continue;
    if (t === '+' || t === '*') lastQuant = k;
    break;
  }
  tokens.forEach((t, k) => {
    out += (t.text === '+' || t.text === '*') && k !== lastQuant ? `${t.text}?` : t.text;
  });
  if (anchoredEnd) out += '$';
  return { source: out, groups, literals };
}

function splitAlternatives(pattern: string): string[] {
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

export function compileOsRegex(pattern: string): OsRegex | string {
  const alternatives: RegExp[] = [];
  const groups: number[] = [];
  const literals: string[][] = [];
  const scan: boolean[] = [];
  for (const alt of splitAlternatives(pattern)) {
    scan.push(!alt.startsWith('^') || alt.includes('\\.'));
    const t = translateAlternative(alt);
    if (typeof t === 'string') return t;
    try {
      alternatives.push(new RegExp(t.source, 'i'));
    } catch (e) {
      return (e as Error).message;
    }
    groups.push(t.groups);
    literals.push(t.literals);
  }
  return { alternatives, groups, literals, scan };
}

/** Result of a match: captures, and the offset right after the match (decoders continue there). */
export interface OsMatchResult {
  captures: string[];
  end: number;
}

/** Whether `lower` (the lower-cased input) holds every literal of alternative `k`. */
function mayMatch(re: OsRegex, k: number, lower: string): boolean {
  for (const lit of re.literals[k]!) if (!lower.includes(lit)) return false;
  return true;
}

/** Below this length the regex runs directly: the literal check would cost as much. */
const PREFILTER_MIN = 64;

export function execOsRegex(re: OsRegex, s: string): OsMatchResult | null {
  const long = s.length >= PREFILTER_MIN;
  for (let k = 0; k < re.alternatives.length; k++) {
    if (long && re.scan[k] && !mayMatch(re, k, lowerOf(s))) continue;
    const m = re.alternatives[k]!.exec(s);
    if (m) {
      const captures: string[] = [];
      for (let k = 1; k < m.length; k++) captures.push(m[k] ?? '');
      return { captures, end: m.index + m[0].length };
    }
  }
  return null;
}

export function testOsRegex(re: OsRegex, s: string): boolean {
  const long = s.length >= PREFILTER_MIN;
  for (let k = 0; k < re.alternatives.length; k++)
    if ((!long || !re.scan[k] || mayMatch(re, k, lowerOf(s))) && re.alternatives[k]!.test(s)) return true;
  return false;
}
