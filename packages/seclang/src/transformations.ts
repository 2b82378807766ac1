import { createHash } from 'node:crypto';

/** A transformation maps one byte string (one char per byte) to another. */
export type Transformation = (input: string) => string;

const HEX = /^[0-9a-fA-F]$/;
const isHex = (c: string | undefined): boolean => c !== undefined && HEX.test(c);
const fromCode = String.fromCharCode;

function isSpace(code: number): boolean {
  // isspace() in the C locale plus NBSP, which ModSecurity also treats as whitespace
  return code === 32 || (code >= 9 && code <= 13) || code === 0xa0;
}

export function lowercase(s: string): string {
  if (!/[A-Z]/.test(s)) return s;
  // ASCII only: String#toLowerCase would also fold bytes like \xc0 (À), so it is used only
  // when there are none.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: byte range check
  if (!/[^\x00-\x7f]/.test(s)) return s.toLowerCase();
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

export function uppercase(s: string): string {
  return /[a-z]/.test(s) ? s.replace(/[a-z]+/g, (m) => m.toUpperCase()) : s;
}

function unicodeToByte(code: number): number {
  // Full-width ASCII (U+FF01..U+FF5E) folds to ASCII, as ModSecurity's default unicode map does.
  if (code >= 0xff01 && code <= 0xff5e) return code - 0xfee0;
  return code & 0xff;
}

export function urlDecode(s: string, uni = false): string {
  if (!s.includes('%') && !s.includes('+')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '+') {
      out += ' ';
    } else if (c === '%') {
      if (uni && (s[i + 1] === 'u' || s[i + 1] === 'U') && isHex(s[i + 2]) && isHex(s[i + 3]) && isHex(s[i + 4]) && isHex(s[i + 5])) {
        out += fromCode(unicodeToByte(Number.parseInt(s.slice(i + 2, i + 6), 16)));
        i += 5;
      } else if (isHex(s[i + 1]) && isHex(s[i + 2])) {
        out += fromCode(Number.parseInt(s.slice(i + 1, i + 3), 16));
        i += 2;
      } else out += c;
    } else out += c;
  }
  return out;
}

/** Percent-decoding only (no `+`), as used for URL paths. */
export function percentDecode(s: string): string {
  if (!s.includes('%')) return s;
  return s.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => fromCode(Number.parseInt(h, 16)));
}

const ENTITIES: Record<string, string> = { quot: '"', amp: '&', lt: '<', gt: '>', nbsp: '\xa0' };

export function htmlEntityDecode(s: string): string {
  if (!s.includes('&')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '&') {
      out += c;
      continue;
    }
    if (s[i + 1] === '#') {
      let j = i + 2;
      let code = -1;
      if (s[j] === 'x' || s[j] === 'X') {
        j += 1;
        const st = j;
        while (j < s.length && isHex(s[j])) j++;
        if (j > st) code = Number.parseInt(s.slice(st, j), 16);
      } else {
        const st = j;
        while (j < s.length && s[j]! >= '0' && s[j]! <= '9') j++;
        if (j > st) code = Number.parseInt(s.slice(st, j), 10);
      }
      if (code >= 0) {
        out += fromCode(code & 0xff);
        if (s[j] === ';') j += 1;
        i = j - 1;
        continue;
      }
      out += c;
      continue;
    }
    const m = /^[a-zA-Z]+/.exec(s.slice(i + 1, i + 10));
    const ent = m ? ENTITIES[m[0].toLowerCase()] : undefined;
    if (m && ent !== undefined) {
      let j = i + 1 + m[0].length;
      if (s[j] === ';') j += 1;
      out += ent;
      i = j - 1;
      continue;
    }
    out += c;
  }
  return out;
}

export function jsDecode(s: string): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\' || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const d = s[i + 1]!;
    if ((d === 'u' || d === 'U') && isHex(s[i + 2]) && isHex(s[i + 3]) && isHex(s[i + 4]) && isHex(s[i + 5])) {
      out += fromCode(unicodeToByte(Number.parseInt(s.slice(i + 2, i + 6), 16)));
      i += 5;
    } else if ((d === 'x' || d === 'X') && isHex(s[i + 2]) && isHex(s[i + 3])) {
      out += fromCode(Number.parseInt(s.slice(i + 2, i + 4), 16));
      i += 3;
    } else if (d >= '0' && d <= '7') {
      let j = i + 1;
      let oct = '';
      while (j < s.length && oct.length < 3 && s[j]! >= '0' && s[j]! <= '7') oct += s[j++];
      if (oct.length === 3 && oct[0]! > '3') {
        oct = oct.slice(0, 2);
        j -= 1;
      }
      out += fromCode(Number.parseInt(oct, 8));
      i = j - 1;
    } else {
      const map: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
      out += map[d] ?? d;
      i += 1;
    }
  }
  return out;
}

export function cssDecode(s: string): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    if (i + 1 >= s.length) break; // a trailing backslash is dropped
    let j = i + 1;
    let hex = '';
    while (j < s.length && hex.length < 6 && isHex(s[j])) hex += s[j++];
    if (hex.length > 0) {
      let code = Number.parseInt(hex, 16);
      if (hex.length >= 4) code = unicodeToByte(code);
      out += fromCode(code & 0xff);
      if (j < s.length && (s[j] === ' ' || s[j] === '\t' || s[j] === '\n' || s[j] === '\r' || s[j] === '\f')) j += 1;
      i = j - 1;
    } else if (s[j] === '\n') {
      i = j;
    } else {
      out += s[j];
      i = j;
    }
  }
  return out;
}

// Identity checks: most values need no change, and building the copy char by char costs more
// than the check (each transformation runs once per distinct value and chain prefix).

/**
 * cmdLine changes a value only for these: quotes, backslash, `^`, `,` `;`, upper case,
 * whitespace other than a space, runs of spaces, and a space before `/` or `(`.
 */
const CMDLINE_WORK = /[\\"'^,;A-Z\t-\r]| {2}| [/(]/;

export function cmdLine(s: string): string {
  if (!CMDLINE_WORK.test(s)) return s;
  let out = '';
  let space = false;
  for (let i = 0; i < s.length; i++) {
    let c = s[i]!;
    if (c === '\\' || c === '"' || c === "'" || c === '^') continue;
    if (c === ',' || c === ';') c = ' ';
    const code = c.charCodeAt(0);
    if (code === 32 || (code >= 9 && code <= 13)) {
      space = true;
      continue;
    }
    if (c === '/' || c === '(') {
      space = false; // spaces before these are removed
    }
    if (space) {
      out += ' ';
      space = false;
    }
    out += c >= 'A' && c <= 'Z' ? c.toLowerCase() : c;
  }
  if (space) out += ' ';
  return out;
}

export function compressWhitespace(s: string): string {
  if (!/[\t-\r\xa0]| {2}/.test(s)) return s;
  let out = '';
  let inSpace = false;
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (isSpace(code)) {
      if (!inSpace) out += ' ';
      inSpace = true;
    } else {
      out += s[i];
      inSpace = false;
    }
  }
  return out;
}

export function removeWhitespace(s: string): string {
  if (!/[\t-\r \xa0]/.test(s)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) if (!isSpace(s.charCodeAt(i))) out += s[i];
  return out;
}

export function normalizePath(s: string, win = false): string {
  if (win) s = s.replace(/\\/g, '/');
  if (s === '') return s;
  // No empty, `.` or `..` segment: splitting and joining gives the same string back.
  if (!s.includes('//') && !/(?:^|\/)\.\.?(?:\/|$)/.test(s)) return s;
  const absolute = s.startsWith('/');
  const trailing = s.endsWith('/') || s.endsWith('/.') || s.endsWith('/..') || s === '.' || s === '..';
  const parts = s.split('/');
  const stack: string[] = [];
  for (const p of parts) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      if (stack.length > 0 && stack[stack.length - 1] !== '..') stack.pop();
      else if (!absolute) stack.push('..');
      continue;
    }
    stack.push(p);
  }
  let out = (absolute ? '/' : '') + stack.join('/');
  if (trailing && stack.length > 0) out += '/';
  return out;
}

export function removeCommentsChar(s: string): string {
  return s.replace(/\/\*|\*\/|--|#/g, '');
}

export function replaceComments(s: string): string {
  if (!s.includes('/*')) return s;
  let out = '';
  let i = 0;
  while (i < s.length) {
    if (s[i] === '/' && s[i + 1] === '*') {
      const end = s.indexOf('*/', i + 2);
      out += ' ';
      if (end < 0) return out;
      i = end + 2;
    } else {
      out += s[i];
      i += 1;
    }
  }
  return out;
}

export function removeComments(s: string): string {
  if (!s.includes('/*') && !s.includes('--') && !s.includes('#')) return s;
  let out = '';
  let i = 0;
  while (i < s.length) {
    if (s[i] === '/' && s[i + 1] === '*') {
      const end = s.indexOf('*/', i + 2);
      if (end < 0) return out;
      i = end + 2;
    } else if ((s[i] === '-' && s[i + 1] === '-') || s[i] === '#') {
      return out;
    } else if (s.startsWith('<!--', i)) {
      const end = s.indexOf('-->', i + 4);
      if (end < 0) return out;
      i = end + 3;
    } else {
      out += s[i];
      i += 1;
    }
  }
  return out;
}

/** UTF-8 sequences become `%uHHHH`, as ModSecurity's utf8toUnicode does; invalid bytes stay. */
export function utf8toUnicode(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: byte range check
  if (!/[^\x00-\x7f]/.test(s)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const b = s.charCodeAt(i);
    if (b < 0x80) {
      out += s[i];
      continue;
    }
    let need = 0;
    let cp = 0;
    if ((b & 0xe0) === 0xc0) {
      need = 1;
      cp = b & 0x1f;
    } else if ((b & 0xf0) === 0xe0) {
      need = 2;
      cp = b & 0x0f;
    } else if ((b & 0xf8) === 0xf0) {
      need = 3;
      cp = b & 0x07;
    } else {
      out += s[i];
      continue;
    }
    let ok = i + need < s.length;
    for (let k = 1; ok && k <= need; k++) {
      const nb = s.charCodeAt(i + k);
      if ((nb & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (nb & 0x3f);
    }
    if (!ok) {
      out += s[i];
      continue;
    }
    out += `%u${(cp & 0xffff).toString(16).padStart(4, '0')}`;
    i += need;
  }
  return out;
}

export function escapeSeqDecode(s: string): string {
  if (!s.includes('\\')) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\' || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const d = s[i + 1]!;
    const map: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '?': '?', "'": "'", '"': '"' };
    if (map[d] !== undefined) {
      out += map[d];
      i += 1;
    } else if ((d === 'x' || d === 'X') && isHex(s[i + 2]) && isHex(s[i + 3])) {
      out += fromCode(Number.parseInt(s.slice(i + 2, i + 4), 16));
      i += 3;
    } else if (d >= '0' && d <= '7') {
      let j = i + 1;
      let oct = '';
      while (j < s.length && oct.length < 3 && s[j]! >= '0' && s[j]! <= '7') oct += s[j++];
      out += fromCode(Number.parseInt(oct, 8) & 0xff);
      i = j - 1;
    } else {
      out += c;
    }
  }
  return out;
}

export function base64Decode(s: string, ext = false): string {
  const cleaned = ext ? s.replace(/[^A-Za-z0-9+/]/g, '') : (/^[A-Za-z0-9+/]*/.exec(s)?.[0] ?? '');
  return Buffer.from(cleaned, 'base64').toString('latin1');
}

export function hexDecode(s: string): string {
  let out = '';
  for (let i = 0; i + 1 < s.length; i += 2) {
    const v = Number.parseInt(s.slice(i, i + 2), 16);
    if (Number.isNaN(v)) break;
    out += fromCode(v);
  }
  return out;
}

export function hexEncode(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += s.charCodeAt(i).toString(16).padStart(2, '0');
  return out;
}

const digest = (algo: string) => (s: string) => createHash(algo).update(Buffer.from(s, 'latin1')).digest().toString('latin1');

export const TRANSFORMATIONS: Record<string, Transformation> = {
  lowercase,
  uppercase,
  urldecode: (s) => urlDecode(s, false),
  urldecodeuni: (s) => urlDecode(s, true),
  urlencode: (s) => s.replace(/[^a-zA-Z0-9*\-._]/g, (c) => (c === ' ' ? '+' : `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`)),
  htmlentitydecode: htmlEntityDecode,
  jsdecode: jsDecode,
  cssdecode: cssDecode,
  cmdline: cmdLine,
  compresswhitespace: compressWhitespace,
  removewhitespace: removeWhitespace,
  removenulls: (s) => (s.includes('\0') ? s.replace(/\0/g, '') : s),
  replacenulls: (s) => (s.includes('\0') ? s.replace(/\0/g, ' ') : s),
  normalizepath: (s) => normalizePath(s, false),
  normalisepath: (s) => normalizePath(s, false),
  normalizepathwin: (s) => normalizePath(s, true),
  normalisepathwin: (s) => normalizePath(s, true),
  removecommentschar: removeCommentsChar,
  removecomments: removeComments,
  replacecomments: replaceComments,
  utf8tounicode: utf8toUnicode,
  escapeseqdecode: escapeSeqDecode,
  base64decode: (s) => base64Decode(s, false),
  base64decodeext: (s) => base64Decode(s, true),
  base64encode: (s) => Buffer.from(s, 'latin1').toString('base64'),
  hexdecode: hexDecode,
  hexencode: hexEncode,
  sqlhexdecode: (s) => s.replace(/0x((?:[0-9a-fA-F]{2})+)/g, (_, h: string) => hexDecode(h)),
  sha1: digest('sha1'),
  md5: digest('md5'),
  length: (s) => String(s.length),
  trim: (s) => s.replace(/^[\t\n\v\f\r ]+|[\t\n\v\f\r ]+$/g, ''),
  trimleft: (s) => s.replace(/^[\t\n\v\f\r ]+/, ''),
  trimright: (s) => s.replace(/[\t\n\v\f\r ]+$/, ''),
};
