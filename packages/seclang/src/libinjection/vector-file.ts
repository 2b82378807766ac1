// Reads libinjection's test vector format (tests/test-*.txt) and prints results the way
// upstream's testdriver.c does, so vectors compare byte for byte. Pure: callers read files.
import { Html5Tokenizer, html5TokenTypeNames } from './html5-tokenizer.ts';
import type { SqliToken } from './sqli-state.ts';

export interface VectorFile {
  test: string;
  input: string;
  expected: string;
}

/** testdriver.c modp_rtrim: strips trailing space, tab, CR and LF. */
export function rtrim(s: string): string {
  let n = s.length;
  while (n > 0) {
    const c = s.charCodeAt(n - 1);
    if (c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d) n--;
    else break;
  }
  return s.slice(0, n);
}

/**
 * Parses a vector file given as a latin1 string. Returns undefined when the three sections
 * are not all present (upstream skips such files as failures).
 */
export function parseVectorFile(text: string): VectorFile | undefined {
  const parts: string[] = ['', '', ''];
  let section = -1;
  let count = 0;
  // keep each line's newline, like fgets()
  const lines = text.split(/(?<=\n)/);
  for (const line of lines) {
    if (count === 0 && line === '--TEST--\n') {
      section = 0;
      count = 1;
    } else if (count === 1 && line === '--INPUT--\n') {
      section = 1;
      count = 2;
    } else if (count === 2 && line === '--EXPECTED--\n') {
      section = 2;
      count = 3;
    } else if (section >= 0) {
      parts[section] += line;
    }
  }
  if (count !== 3) return undefined;
  return { test: parts[0], input: rtrim(parts[1]), expected: rtrim(parts[2]) };
}

/** C printf("%s") stops at the first NUL. */
function cString(s: string): string {
  const z = s.indexOf('\0');
  return z === -1 ? s : s.slice(0, z);
}

function quoted(t: SqliToken): string {
  const open = t.strOpen !== 0 ? String.fromCharCode(t.strOpen) : '';
  const close = t.strClose !== 0 ? String.fromCharCode(t.strClose) : '';
  return open + cString(t.val) + close;
}

/** One token line as testdriver.c print_token() writes it. */
export function formatSqliToken(t: SqliToken): string {
  const type = String.fromCharCode(t.type);
  if (type === 's') return `${type} ${quoted(t)}`;
  if (type === 'v') return `${type} ${t.count >= 1 ? '@' : ''}${t.count === 2 ? '@' : ''}${quoted(t)}`;
  return `${type} ${cString(t.val)}`;
}

export function formatSqliTokens(tokens: readonly SqliToken[]): string {
  return rtrim(tokens.map((t) => formatSqliToken(t) + '\n').join(''));
}

/** All HTML5 tokens of the input from DATA_STATE, as testdriver.c print_html5_token() writes them. */
export function formatHtml5Tokens(input: string): string {
  const h5 = new Html5Tokenizer(input);
  let out = '';
  while (h5.next()) {
    out += `${html5TokenTypeNames[h5.tokenType]},${h5.tokenLen},${cString(h5.tokenValue)}\n`;
  }
  return rtrim(out);
}
