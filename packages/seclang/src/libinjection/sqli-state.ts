// TypeScript port of libinjection's SQLi tokenizer, folder and fingerprint checker
// (libinjection_sqli.c, libinjection 3.9.2, client9/libinjection master as of 2018).
//
// Copyright (c) 2012-2016, Nick Galbreath. All rights reserved.
// Redistribution and use in source and binary forms, with or without modification, are
// permitted under the BSD-3-Clause licence; the full notice is in ./LICENSE
// (https://github.com/client9/libinjection). Port for Palisade; behaviour, including the C
// quirks that change results (signed chars, strspn accepting NUL), is kept byte for byte so
// fingerprints match the C library. One upstream bug fix from after 3.9.2 is included (the
// $tag$ string search, see parseMoney), matching the libinjection that ModSecurity v3 ships.
//
// Input is a "byte string": every char code is 0-255 (latin1), like the C library's bytes.
// Token types are kept as char codes to avoid per-token string work in the hot path.

import { sqliCharMap, sqliFingerprints, sqliKeywords } from './sqli-data.ts';

export const FLAG_QUOTE_NONE = 1;
export const FLAG_QUOTE_SINGLE = 2;
export const FLAG_QUOTE_DOUBLE = 4;
export const FLAG_SQL_ANSI = 8;
export const FLAG_SQL_MYSQL = 16;

const TYPE_NONE = 0;
const TYPE_KEYWORD = 0x6b; // k
const TYPE_UNION = 0x55; // U
const TYPE_GROUP = 0x42; // B
const TYPE_EXPRESSION = 0x45; // E
const TYPE_SQLTYPE = 0x74; // t
const TYPE_FUNCTION = 0x66; // f
const TYPE_BAREWORD = 0x6e; // n
const TYPE_NUMBER = 0x31; // 1
const TYPE_VARIABLE = 0x76; // v
const TYPE_STRING = 0x73; // s
const TYPE_OPERATOR = 0x6f; // o
const TYPE_LOGIC_OPERATOR = 0x26; // &
const TYPE_COMMENT = 0x63; // c
const TYPE_COLLATE = 0x41; // A
const TYPE_LEFTPARENS = 0x28; // (
const TYPE_RIGHTPARENS = 0x29; // )
const TYPE_LEFTBRACE = 0x7b; // {
const TYPE_RIGHTBRACE = 0x7d; // }
const TYPE_DOT = 0x2e; // .
const TYPE_COMMA = 0x2c; // ,
const TYPE_COLON = 0x3a; // :
const TYPE_SEMICOLON = 0x3b; // ;
const TYPE_TSQL = 0x54; // T
const TYPE_UNKNOWN = 0x3f; // ?
const TYPE_EVIL = 0x58; // X
const TYPE_FINGERPRINT = 0x46; // F
const TYPE_BACKSLASH = 0x5c; // \

const CHAR_STRINGS: readonly string[] = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i));
const CHAR_NULL = 0;
const CHAR_SINGLE = 0x27;
const CHAR_DOUBLE = 0x22;
const CHAR_TICK = 0x60;

/** C's token value buffer is 32 bytes including the terminating NUL. */
const TOKEN_SIZE = 32;
const MAX_TOKENS = 5;

// ---- keyword table -----------------------------------------------------------------------

// One table like the C one: keywords plus every fingerprint as '0' + FP -> 'F'. It is an
// open-addressing hash over ASCII-upper-cased char codes, so a lookup straight from the
// input needs no substring or toUpperCase allocation (this runs for every word of every
// request argument).
const TABLE_BITS = 15;
const TABLE_MASK = (1 << TABLE_BITS) - 1;
const tableKeys: (string | undefined)[] = new Array(1 << TABLE_BITS).fill(undefined);
const tableTypes = new Uint8Array(1 << TABLE_BITS);

function upperCode(c: number): number {
  return c >= 0x61 && c <= 0x7a ? c - 0x20 : c;
}

function hashUpper(s: string, start: number, len: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < len; i++) h = Math.imul(h ^ upperCode(s.charCodeAt(start + i)), 0x01000193);
  return h >>> 0;
}

function tableInsert(key: string, type: number): void {
  let idx = hashUpper(key, 0, key.length) & TABLE_MASK;
  while (tableKeys[idx] !== undefined && tableKeys[idx] !== key) idx = (idx + 1) & TABLE_MASK;
  tableKeys[idx] = key;
  tableTypes[idx] = type;
}

for (const [word, type] of sqliKeywords) tableInsert(word, type.charCodeAt(0));
for (const fp of sqliFingerprints.split(' ')) tableInsert('0' + fp, TYPE_FINGERPRINT);

// Words that can start a multi-word phrase ("UNION" of "UNION ALL", "UNION ALL" of
// "UNION ALL DISTINCT"...) are marked in the table: the folder tries to merge many adjacent
// word pairs, and this rejects most of them before building the joined string. A head that
// is not itself a keyword gets type 0, which reads as "not found".
const tableHeads = new Uint8Array(1 << TABLE_BITS);
for (const [word] of sqliKeywords) {
  for (let i = word.indexOf(' '); i !== -1; i = word.indexOf(' ', i + 1)) {
    const head = word.slice(0, i);
    let idx = hashUpper(head, 0, head.length) & TABLE_MASK;
    while (tableKeys[idx] !== undefined && tableKeys[idx] !== head) idx = (idx + 1) & TABLE_MASK;
    tableKeys[idx] = head;
    tableHeads[idx] = 1;
  }
}

/**
 * Type of s[start, start+len) ignoring ASCII case, or 0 (C bsearch_keyword_type). Every
 * table key is ASCII, so a key holding a byte >= 0x80 never matches, as in C.
 */
function lookupRange(s: string, start: number, len: number): number {
  const idx = findSlot(s, start, len);
  return idx === -1 ? CHAR_NULL : tableTypes[idx];
}

/** Table slot holding s[start, start+len) ignoring ASCII case, or -1. */
function findSlot(s: string, start: number, len: number): number {
  if (len === 0 || len >= TOKEN_SIZE) return -1;
  let idx = hashUpper(s, start, len) & TABLE_MASK;
  for (;;) {
    const key = tableKeys[idx];
    if (key === undefined) return -1;
    if (key.length === len) {
      let i = 0;
      while (i < len && key.charCodeAt(i) === upperCode(s.charCodeAt(start + i))) i++;
      if (i === len) return idx;
    }
    idx = (idx + 1) & TABLE_MASK;
  }
}

function lookupWord(key: string): number {
  return lookupRange(key, 0, key.length);
}

/** True when `val` equals the upper-case ASCII `word` ignoring ASCII case (C cstrcasecmp == 0). */
function eqUpper(word: string, val: string): boolean {
  const n = word.length;
  if (val.length !== n) return false;
  for (let i = 0; i < n; i++) {
    let c = val.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) c -= 0x20;
    if (c !== word.charCodeAt(i)) return false;
  }
  return true;
}

// ---- byte classes ------------------------------------------------------------------------

function byteSet(chars: string, withNul: boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  // C strchr() also finds the accept string's terminating NUL, so NUL is always a member.
  if (withNul) t[0] = 1;
  return t;
}

const WHITE = byteSet(' \t\n\v\f\r\xa0', true);
const WORD_DELIMS = byteSet(' []{}<>:\\?=@!#~+-*/&|^%(),\';\t\n\v\f\r"\xa0', true);
const VAR_DELIMS = byteSet(' <>:\\?=@!#~+-*/&|^%(),\';\t\n\v\f\r\'`"', true);
const HEX_DIGITS = byteSet('0123456789ABCDEFabcdef', true);
const BIN_DIGITS = byteSet('01', true);
const MONEY_CHARS = byteSet('0123456789.,', true);
const LETTERS = byteSet('abcdefghjiklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', true);

const P_WHITE = 0;
const P_WORD = 1;
const P_OP1 = 2;
const P_OP2 = 3;
const P_BACKSLASH = 4;
const P_DASH = 5;
const P_STRING = 6;
const P_HASH = 7;
const P_NUMBER = 8;
const P_SLASH = 9;
const P_CHAR = 10;
const P_VAR = 11;
const P_OTHER = 12;
const P_MONEY = 13;
const P_TICK = 14;
const P_USTRING = 15;
const P_QSTRING = 16;
const P_NQSTRING = 17;
const P_XSTRING = 18;
const P_BSTRING = 19;
const P_ESTRING = 20;
const P_BWORD = 21;

const PARSER_BY_NAME: Record<string, number> = {
  CHAR_WORD: P_WORD,
  CHAR_WHITE: P_WHITE,
  CHAR_OP1: P_OP1,
  CHAR_UNARY: P_OP1,
  CHAR_OP2: P_OP2,
  CHAR_BANG: P_OP2,
  CHAR_BACK: P_BACKSLASH,
  CHAR_DASH: P_DASH,
  CHAR_STR: P_STRING,
  CHAR_HASH: P_HASH,
  CHAR_NUM: P_NUMBER,
  CHAR_SLASH: P_SLASH,
  CHAR_SEMICOLON: P_CHAR,
  CHAR_COMMA: P_CHAR,
  CHAR_LEFTPARENS: P_CHAR,
  CHAR_RIGHTPARENS: P_CHAR,
  CHAR_LEFTBRACE: P_CHAR,
  CHAR_RIGHTBRACE: P_CHAR,
  CHAR_VAR: P_VAR,
  CHAR_OTHER: P_OTHER,
  CHAR_MONEY: P_MONEY,
  CHAR_TICK: P_TICK,
  CHAR_USTRING: P_USTRING,
  CHAR_QSTRING: P_QSTRING,
  CHAR_NQSTRING: P_NQSTRING,
  CHAR_XSTRING: P_XSTRING,
  CHAR_BSTRING: P_BSTRING,
  CHAR_ESTRING: P_ESTRING,
  CHAR_BWORD: P_BWORD,
};

const CHAR_PARSERS = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  const p = PARSER_BY_NAME[sqliCharMap[i]];
  if (p === undefined) throw new Error(`libinjection data: unknown char class ${sqliCharMap[i]}`);
  CHAR_PARSERS[i] = p;
}

// ---- tokens ------------------------------------------------------------------------------

/** One token; mirrors the C `stoken_t`. `val` holds at most 31 chars like the C buffer. */
export class SqliToken {
  /** Token type as a char code ('k' = 0x6b, ...); 0 = none. */
  type = 0;
  /** Opening quote char code of a string (0 = none, e.g. a simulated quote context). */
  strOpen = 0;
  /** Closing quote char code (0 = unterminated). */
  strClose = 0;
  pos = 0;
  len = 0;
  /** Number of leading '@' of a variable. */
  count = 0;
  val = '';

  clear(): void {
    this.type = 0;
    this.strOpen = 0;
    this.strClose = 0;
    this.pos = 0;
    this.len = 0;
    this.count = 0;
    this.val = '';
  }

  copyFrom(o: SqliToken): void {
    this.type = o.type;
    this.strOpen = o.strOpen;
    this.strClose = o.strClose;
    this.pos = o.pos;
    this.len = o.len;
    this.count = o.count;
    this.val = o.val;
  }

  clone(): SqliToken {
    const t = new SqliToken();
    t.copyFrom(this);
    return t;
  }

  /** Token type as its one-character code (`'k'`, `'s'`, ...). */
  get typeChar(): string {
    return String.fromCharCode(this.type);
  }
}

function isArithmeticOp(st: SqliToken): boolean {
  if (st.type !== TYPE_OPERATOR || st.len !== 1) return false;
  const ch = st.val.charCodeAt(0);
  return ch === 0x2a || ch === 0x2f || ch === 0x2d || ch === 0x2b || ch === 0x25;
}

function isUnaryOp(st: SqliToken): boolean {
  if (st.type !== TYPE_OPERATOR) return false;
  const v = st.val;
  switch (st.len) {
    case 1: {
      const c = v.charCodeAt(0);
      return c === 0x2b || c === 0x2d || c === 0x21 || c === 0x7e;
    }
    case 2:
      return v === '!!';
    case 3:
      return eqUpper('NOT', v);
    default:
      return false;
  }
}

// ---- state -------------------------------------------------------------------------------

/**
 * Parsing state for one input, like `struct libinjection_sqli_state`. Reusable: `init()`
 * a new input instead of allocating a new state per request argument.
 */
export class SqliState {
  s = '';
  slen = 0;
  flags = FLAG_QUOTE_NONE | FLAG_SQL_ANSI;
  pos = 0;
  /** MAX_TOKENS + room for the look-ahead tokens the folder uses. */
  readonly tokenvec: SqliToken[] = Array.from({ length: 8 }, () => new SqliToken());
  current: SqliToken = this.tokenvec[0];
  fingerprint = '';
  statsCommentDdx = 0;
  statsCommentHash = 0;
  statsFolds = 0;
  statsTokens = 0;
  private readonly lastComment = new SqliToken();

  constructor(input = '', flags = 0) {
    this.init(input, flags);
  }

  init(input: string, flags = 0): this {
    this.s = input;
    this.slen = input.length;
    this.reset(flags);
    return this;
  }

  /**
   * Drops references to the last input (token values may be slices of it) without a full
   * reset, so a long-lived shared state does not keep a request's data alive.
   */
  release(): void {
    this.s = '';
    this.slen = 0;
    for (const t of this.tokenvec) t.val = '';
    this.lastComment.val = '';
  }

  /** Clears all parse results but keeps the input (C libinjection_sqli_reset). */
  reset(flags: number): void {
    this.flags = flags === 0 ? FLAG_QUOTE_NONE | FLAG_SQL_ANSI : flags;
    this.pos = 0;
    for (const t of this.tokenvec) t.clear();
    this.current = this.tokenvec[0];
    this.fingerprint = '';
    this.statsCommentDdx = 0;
    this.statsCommentHash = 0;
    this.statsFolds = 0;
    this.statsTokens = 0;
  }

  /** Byte at i, or 0 past the end (callers of the C code pass NUL-terminated strings). */
  private at(i: number): number {
    return i < this.slen ? this.s.charCodeAt(i) : 0;
  }

  private assign(st: SqliToken, type: number, pos: number, len: number): void {
    const last = len < TOKEN_SIZE ? len : TOKEN_SIZE - 1;
    st.type = type;
    st.pos = pos;
    st.len = last;
    st.val = this.s.substr(pos, last);
  }

  private assignChar(st: SqliToken, type: number, pos: number): void {
    st.type = type;
    st.pos = pos;
    st.len = 1;
    st.val = this.s[pos];
  }

  /** memchr2: first i in [start, start+len-1) with s[i]==c0 && s[i+1]==c1, or -1. */
  private memchr2(start: number, len: number, c0: number, c1: number): number {
    if (len < 2) return -1;
    const last = start + len - 1;
    const s = this.s;
    for (let i = start; i < last; i++) {
      if (s.charCodeAt(i) === c0 && s.charCodeAt(i + 1) === c1) return i;
    }
    return -1;
  }

  private span(start: number, len: number, set: Uint8Array): number {
    const s = this.s;
    for (let i = 0; i < len; i++) {
      if (set[s.charCodeAt(start + i)] === 0) return i;
    }
    return len;
  }

  private cspan(start: number, len: number, set: Uint8Array): number {
    const s = this.s;
    for (let i = 0; i < len; i++) {
      if (set[s.charCodeAt(start + i)] === 1) return i;
    }
    return len;
  }

  private indexOfChar(ch: number, from: number): number {
    // native indexOf is much faster than a charCodeAt loop on long inputs
    return this.s.indexOf(CHAR_STRINGS[ch], from);
  }

  // ---- parsers (each returns the position after what it consumed) --------------------------

  private parseOperator1(): number {
    this.assignChar(this.current, TYPE_OPERATOR, this.pos);
    return this.pos + 1;
  }

  private parseOther(): number {
    this.assignChar(this.current, TYPE_UNKNOWN, this.pos);
    return this.pos + 1;
  }

  private parseChar(): number {
    this.assignChar(this.current, this.s.charCodeAt(this.pos), this.pos);
    return this.pos + 1;
  }

  private parseEolComment(): number {
    const pos = this.pos;
    const end = this.indexOfChar(0x0a, pos);
    if (end === -1) {
      this.assign(this.current, TYPE_COMMENT, pos, this.slen - pos);
      return this.slen;
    }
    this.assign(this.current, TYPE_COMMENT, pos, end - pos);
    return end + 1;
  }

  /** '#' is an operator in ANSI mode and an end-of-line comment in MySQL mode. */
  private parseHash(): number {
    this.statsCommentHash += 1;
    if (this.flags & FLAG_SQL_MYSQL) {
      this.statsCommentHash += 1;
      return this.parseEolComment();
    }
    this.assignChar(this.current, TYPE_OPERATOR, this.pos);
    return this.pos + 1;
  }

  private parseDash(): number {
    const pos = this.pos;
    const slen = this.slen;
    const next = this.at(pos + 1);
    // --[white] and --[EOF] are comments everywhere; --[notwhite] only outside MySQL.
    if (pos + 2 < slen && next === 0x2d && WHITE[this.s.charCodeAt(pos + 2)] === 1) {
      return this.parseEolComment();
    } else if (pos + 2 === slen && next === 0x2d) {
      return this.parseEolComment();
    } else if (pos + 1 < slen && next === 0x2d && this.flags & FLAG_SQL_ANSI) {
      this.statsCommentDdx += 1;
      return this.parseEolComment();
    }
    this.assignChar(this.current, TYPE_OPERATOR, pos);
    return pos + 1;
  }

  private parseSlash(): number {
    const pos = this.pos;
    const slen = this.slen;
    if (pos + 1 === slen || this.s.charCodeAt(pos + 1) !== 0x2a) return this.parseOperator1();
    const end = this.memchr2(pos + 2, slen - (pos + 2), 0x2a, 0x2f);
    const clen = end === -1 ? slen - pos : end + 2 - pos;
    let ctype = TYPE_COMMENT;
    // A nested "/*" (PostgreSQL nests comments) or a MySQL "/*!" comment cannot be parsed
    // consistently across databases, so it makes the whole input unparsable ('X'). For an
    // unterminated comment the C pointer arithmetic yields an empty search.
    if (end !== -1 && this.memchr2(pos + 2, end - pos - 1, 0x2f, 0x2a) !== -1) {
      ctype = TYPE_EVIL;
    } else if (pos + 2 < slen && this.s.charCodeAt(pos + 2) === 0x21) {
      ctype = TYPE_EVIL;
    }
    this.assign(this.current, ctype, pos, clen);
    return pos + clen;
  }

  private parseBackslash(): number {
    const pos = this.pos;
    // MySQL's alias for NULL: "\N" (capital N only).
    if (pos + 1 < this.slen && this.s.charCodeAt(pos + 1) === 0x4e) {
      this.assign(this.current, TYPE_NUMBER, pos, 2);
      return pos + 2;
    }
    this.assignChar(this.current, TYPE_BACKSLASH, pos);
    return pos + 1;
  }

  private parseOperator2(): number {
    const pos = this.pos;
    const slen = this.slen;
    const s = this.s;
    if (pos + 1 >= slen) return this.parseOperator1();
    if (
      pos + 2 < slen &&
      s.charCodeAt(pos) === 0x3c &&
      s.charCodeAt(pos + 1) === 0x3d &&
      s.charCodeAt(pos + 2) === 0x3e
    ) {
      this.assign(this.current, TYPE_OPERATOR, pos, 3);
      return pos + 3;
    }
    const ch = lookupRange(s, pos, 2);
    if (ch !== CHAR_NULL) {
      this.assign(this.current, ch, pos, 2);
      return pos + 2;
    }
    if (s.charCodeAt(pos) === 0x3a) {
      this.assign(this.current, TYPE_COLON, pos, 1);
      return pos + 1;
    }
    return this.parseOperator1();
  }

  /** Odd number of backslashes ending at `end` (not before `start`) escapes the quote. */
  private isBackslashEscaped(end: number, start: number): boolean {
    let p = end;
    while (p >= start && this.s.charCodeAt(p) === 0x5c) p--;
    return ((end - p) & 1) === 1;
  }

  /** Parses a string; offset 0 means a simulated opening quote (quote context). */
  private parseStringCore(pos: number, st: SqliToken, delim: number, offset: number): number {
    const len = this.slen;
    const start = pos + offset;
    let qpos = this.indexOfChar(delim, start);
    st.strOpen = offset > 0 ? delim : CHAR_NULL;
    for (;;) {
      if (qpos === -1) {
        this.assign(st, TYPE_STRING, start, len - start);
        st.strClose = CHAR_NULL;
        return len;
      } else if (this.isBackslashEscaped(qpos - 1, start)) {
        qpos = this.indexOfChar(delim, qpos + 1);
      } else if (qpos + 1 < len && this.s.charCodeAt(qpos + 1) === delim) {
        // doubled delimiter ('foo''bar') is an escaped quote
        qpos = this.indexOfChar(delim, qpos + 2);
      } else {
        this.assign(st, TYPE_STRING, start, qpos - start);
        st.strClose = delim;
        return qpos + 1;
      }
    }
  }

  private parseString(): number {
    return this.parseStringCore(this.pos, this.current, this.s.charCodeAt(this.pos), 1);
  }

  /** N'...' (MySQL national charset) and E'...' (PostgreSQL escaped string). */
  private parseEstring(): number {
    const pos = this.pos;
    if (pos + 2 >= this.slen || this.s.charCodeAt(pos + 1) !== CHAR_SINGLE) return this.parseWord();
    return this.parseStringCore(pos, this.current, CHAR_SINGLE, 2);
  }

  /** U&'...' (unicode string). */
  private parseUstring(): number {
    const pos = this.pos;
    if (pos + 2 < this.slen && this.s.charCodeAt(pos + 1) === 0x26 && this.s.charCodeAt(pos + 2) === CHAR_SINGLE) {
      this.pos += 2;
      const next = this.parseString();
      this.current.strOpen = 0x75; // u
      if (this.current.strClose === CHAR_SINGLE) this.current.strClose = 0x75;
      return next;
    }
    return this.parseWord();
  }

  /** Oracle q'<delim>...<delim>' strings. */
  private parseQstringCore(offset: number): number {
    const slen = this.slen;
    const s = this.s;
    const pos = this.pos + offset;
    if (pos >= slen) return this.parseWord();
    const q = s.charCodeAt(pos);
    if ((q !== 0x71 && q !== 0x51) || pos + 2 >= slen || s.charCodeAt(pos + 1) !== CHAR_SINGLE) {
      return this.parseWord();
    }
    let ch = s.charCodeAt(pos + 2);
    // C compares a signed char: bytes >= 0x80 are negative and also fall back to a word.
    if (ch < 33 || ch >= 0x80) return this.parseWord();
    if (ch === 0x28) ch = 0x29;
    else if (ch === 0x5b) ch = 0x5d;
    else if (ch === 0x7b) ch = 0x7d;
    else if (ch === 0x3c) ch = 0x3e;
    const end = this.memchr2(pos + 3, slen - pos - 3, ch, CHAR_SINGLE);
    const st = this.current;
    if (end === -1) {
      this.assign(st, TYPE_STRING, pos + 3, slen - pos - 3);
      st.strOpen = 0x71;
      st.strClose = CHAR_NULL;
      return slen;
    }
    this.assign(st, TYPE_STRING, pos + 3, end - pos - 3);
    st.strOpen = 0x71;
    st.strClose = 0x71;
    return end + 2;
  }

  private parseNqstring(): number {
    if (this.pos + 2 < this.slen && this.s.charCodeAt(this.pos + 1) === CHAR_SINGLE) return this.parseEstring();
    return this.parseQstringCore(1);
  }

  /** b'0101' and x'ABCD' literals. */
  private parseBinHexString(digits: Uint8Array): number {
    const pos = this.pos;
    const slen = this.slen;
    if (pos + 2 >= slen || this.s.charCodeAt(pos + 1) !== CHAR_SINGLE) return this.parseWord();
    const wlen = this.span(pos + 2, slen - pos - 2, digits);
    if (pos + 2 + wlen >= slen || this.s.charCodeAt(pos + 2 + wlen) !== CHAR_SINGLE) return this.parseWord();
    this.assign(this.current, TYPE_NUMBER, pos, wlen + 3);
    return pos + 2 + wlen + 1;
  }

  /** SQL Server [bracketed names]. */
  private parseBword(): number {
    const pos = this.pos;
    const end = this.indexOfChar(0x5d, pos);
    if (end === -1) {
      this.assign(this.current, TYPE_BAREWORD, pos, this.slen - pos);
      return this.slen;
    }
    this.assign(this.current, TYPE_BAREWORD, pos, end - pos + 1);
    return end + 1;
  }

  private parseWord(): number {
    const pos = this.pos;
    const st = this.current;
    const wlen = this.cspan(pos, this.slen - pos, WORD_DELIMS);
    this.assign(st, TYPE_BAREWORD, pos, wlen);
    // "SELECT.1" or "SELECT`col`": a keyword before '.' or '`' becomes its own token.
    const val = st.val;
    for (let i = 0; i < st.len; i++) {
      const d = val.charCodeAt(i);
      if (d === 0x2e || d === 0x60) {
        const ch = lookupRange(val, 0, i);
        if (ch !== TYPE_NONE && ch !== TYPE_BAREWORD) {
          st.clear();
          this.assign(st, ch, pos, i);
          return pos + i;
        }
      }
    }
    if (wlen < TOKEN_SIZE) {
      const ch = lookupWord(val);
      st.type = ch === CHAR_NULL ? TYPE_BAREWORD : ch;
    }
    return pos + wlen;
  }

  /** MySQL `backticks`: a bare word, or a function when the name is one. */
  private parseTick(): number {
    const next = this.parseStringCore(this.pos, this.current, CHAR_TICK, 1);
    const ch = lookupWord(this.current.val);
    this.current.type = ch === TYPE_FUNCTION ? TYPE_FUNCTION : TYPE_BAREWORD;
    return next;
  }

  private parseVar(): number {
    const slen = this.slen;
    const s = this.s;
    const st = this.current;
    let pos = this.pos + 1;
    if (pos < slen && s.charCodeAt(pos) === 0x40) {
      pos += 1;
      st.count = 2;
    } else {
      st.count = 1;
    }
    // MySQL allows @@`version` and @'name'
    if (pos < slen) {
      const c = s.charCodeAt(pos);
      if (c === CHAR_TICK) {
        this.pos = pos;
        const next = this.parseTick();
        st.type = TYPE_VARIABLE;
        return next;
      } else if (c === CHAR_SINGLE || c === CHAR_DOUBLE) {
        this.pos = pos;
        const next = this.parseString();
        st.type = TYPE_VARIABLE;
        return next;
      }
    }
    const xlen = this.cspan(pos, slen - pos, VAR_DELIMS);
    this.assign(st, TYPE_VARIABLE, pos, xlen);
    return pos + xlen;
  }

  /** my_memmem: first index in [from, from+hlen-nlen] where s[needle..needle+nlen) occurs. */
  private memmemSelf(from: number, hlen: number, needle: number, nlen: number): number {
    const s = this.s;
    const last = from + hlen - nlen;
    for (let i = from; i <= last; i++) {
      let k = 0;
      while (k < nlen && s.charCodeAt(i + k) === s.charCodeAt(needle + k)) k++;
      if (k === nlen) return i;
    }
    return -1;
  }

  /** $1,000.00 money, PostgreSQL $$strings$$ and $tag$strings$tag$. */
  private parseMoney(): number {
    const s = this.s;
    const slen = this.slen;
    const pos = this.pos;
    const st = this.current;
    if (pos + 1 === slen) {
      this.assignChar(st, TYPE_BAREWORD, pos);
      return slen;
    }
    let xlen = this.span(pos + 1, slen - pos - 1, MONEY_CHARS);
    if (xlen === 0) {
      if (s.charCodeAt(pos + 1) === 0x24) {
        const end = this.memchr2(pos + 2, slen - pos - 2, 0x24, 0x24);
        if (end === -1) {
          this.assign(st, TYPE_STRING, pos + 2, slen - (pos + 2));
          st.strOpen = 0x24;
          st.strClose = CHAR_NULL;
          return slen;
        }
        this.assign(st, TYPE_STRING, pos + 2, end - (pos + 2));
        st.strOpen = 0x24;
        st.strClose = 0x24;
        return end + 2;
      }
      xlen = this.span(pos + 1, slen - pos - 1, LETTERS);
      if (xlen === 0) {
        this.assignChar(st, TYPE_BAREWORD, pos);
        return pos + 1;
      }
      if (pos + xlen + 1 === slen || s.charCodeAt(pos + xlen + 1) !== 0x24) {
        this.assignChar(st, TYPE_BAREWORD, pos);
        return pos + 1;
      }
      // Search for the closing tag after the opening one. (libinjection at the vectors'
      // commit searched from offset xlen+2 of the whole input, which made "x $a$...$a$"
      // unterminated; later libinjection, and the copy ModSecurity v3 ships, fixed that.)
      const tagEnd = pos + xlen + 2;
      const end = this.memmemSelf(tagEnd, slen - tagEnd, pos, xlen + 2);
      if (end === -1) {
        this.assign(st, TYPE_STRING, tagEnd, slen - tagEnd);
        st.strOpen = 0x24;
        st.strClose = CHAR_NULL;
        return slen;
      }
      this.assign(st, TYPE_STRING, tagEnd, end - tagEnd);
      st.strOpen = 0x24;
      st.strClose = 0x24;
      return end + xlen + 2;
    } else if (xlen === 1 && s.charCodeAt(pos + 1) === 0x2e) {
      return this.parseWord();
    }
    this.assign(st, TYPE_NUMBER, pos, 1 + xlen);
    return pos + 1 + xlen;
  }

  private parseNumber(): number {
    const s = this.s;
    const slen = this.slen;
    let pos = this.pos;
    const st = this.current;
    if (s.charCodeAt(pos) === 0x30 && pos + 1 < slen) {
      const c1 = s.charCodeAt(pos + 1);
      const digits = c1 === 0x58 || c1 === 0x78 ? HEX_DIGITS : c1 === 0x42 || c1 === 0x62 ? BIN_DIGITS : null;
      if (digits !== null) {
        const xlen = this.span(pos + 2, slen - pos - 2, digits);
        if (xlen === 0) {
          this.assign(st, TYPE_BAREWORD, pos, 2);
          return pos + 2;
        }
        this.assign(st, TYPE_NUMBER, pos, 2 + xlen);
        return pos + 2 + xlen;
      }
    }
    const start = pos;
    while (pos < slen && isDigit(s.charCodeAt(pos))) pos++;
    if (pos < slen && s.charCodeAt(pos) === 0x2e) {
      pos++;
      while (pos < slen && isDigit(s.charCodeAt(pos))) pos++;
      if (pos - start === 1) {
        this.assignChar(st, TYPE_DOT, start);
        return pos;
      }
    }
    let haveE = false;
    let haveExp = false;
    if (pos < slen) {
      const c = s.charCodeAt(pos);
      if (c === 0x45 || c === 0x65) {
        haveE = true;
        pos++;
        if (pos < slen && (s.charCodeAt(pos) === 0x2b || s.charCodeAt(pos) === 0x2d)) pos++;
        while (pos < slen && isDigit(s.charCodeAt(pos))) {
          haveExp = true;
          pos++;
        }
      }
    }
    // Oracle's float/double suffix: "1.2f", and "1fUNION" as "1f UNION"; "123FROM" stays "123".
    if (pos < slen) {
      const c = s.charCodeAt(pos);
      if (c === 0x64 || c === 0x44 || c === 0x66 || c === 0x46) {
        if (pos + 1 === slen) {
          pos++;
        } else {
          const n = s.charCodeAt(pos + 1);
          if (WHITE[n] === 1 || n === 0x3b || n === 0x75 || n === 0x55) pos++;
        }
      }
    }
    // "1234.e" / ".E": an exponent marker without digits makes a word, not a number.
    this.assign(st, haveE && !haveExp ? TYPE_BAREWORD : TYPE_NUMBER, start, pos - start);
    return pos;
  }

  /**
   * Reads the next token into `current`. Returns false at end of input
   * (C libinjection_sqli_tokenize).
   */
  tokenize(): boolean {
    const slen = this.slen;
    if (slen === 0) return false;
    const current = this.current;
    current.clear();
    // In a quote context the input is parsed as if it started with that quote.
    if (this.pos === 0 && this.flags & (FLAG_QUOTE_SINGLE | FLAG_QUOTE_DOUBLE)) {
      const delim = this.flags & FLAG_QUOTE_SINGLE ? CHAR_SINGLE : CHAR_DOUBLE;
      this.pos = this.parseStringCore(0, current, delim, 0);
      this.statsTokens += 1;
      return true;
    }
    const s = this.s;
    while (this.pos < slen) {
      const ch = s.charCodeAt(this.pos) & 0xff;
      let next: number;
      switch (CHAR_PARSERS[ch]) {
        case P_WHITE:
          next = this.pos + 1;
          break;
        case P_WORD:
          next = this.parseWord();
          break;
        case P_OP1:
          next = this.parseOperator1();
          break;
        case P_OP2:
          next = this.parseOperator2();
          break;
        case P_BACKSLASH:
          next = this.parseBackslash();
          break;
        case P_DASH:
          next = this.parseDash();
          break;
        case P_STRING:
          next = this.parseString();
          break;
        case P_HASH:
          next = this.parseHash();
          break;
        case P_NUMBER:
          next = this.parseNumber();
          break;
        case P_SLASH:
          next = this.parseSlash();
          break;
        case P_CHAR:
          next = this.parseChar();
          break;
        case P_VAR:
          next = this.parseVar();
          break;
        case P_OTHER:
          next = this.parseOther();
          break;
        case P_MONEY:
          next = this.parseMoney();
          break;
        case P_TICK:
          next = this.parseTick();
          break;
        case P_USTRING:
          next = this.parseUstring();
          break;
        case P_QSTRING:
          next = this.parseQstringCore(0);
          break;
        case P_NQSTRING:
          next = this.parseNqstring();
          break;
        case P_XSTRING:
          next = this.parseBinHexString(HEX_DIGITS);
          break;
        case P_BSTRING:
          next = this.parseBinHexString(BIN_DIGITS);
          break;
        case P_ESTRING:
          next = this.parseEstring();
          break;
        default: // P_BWORD
          next = this.parseBword();
          break;
      }
      this.pos = next;
      if (current.type !== CHAR_NULL) {
        this.statsTokens += 1;
        return true;
      }
    }
    return false;
  }

  /** "UNION" + "ALL" -> "UNION ALL" when the pair is a known phrase. */
  private mergeWords(a: SqliToken, b: SqliToken): boolean {
    const at = a.type;
    if (
      !(
        at === TYPE_KEYWORD ||
        at === TYPE_BAREWORD ||
        at === TYPE_OPERATOR ||
        at === TYPE_UNION ||
        at === TYPE_FUNCTION ||
        at === TYPE_EXPRESSION ||
        at === TYPE_TSQL ||
        at === TYPE_SQLTYPE
      )
    ) {
      return false;
    }
    const bt = b.type;
    if (
      bt !== TYPE_KEYWORD &&
      bt !== TYPE_BAREWORD &&
      bt !== TYPE_OPERATOR &&
      bt !== TYPE_SQLTYPE &&
      bt !== TYPE_LOGIC_OPERATOR &&
      bt !== TYPE_FUNCTION &&
      bt !== TYPE_UNION &&
      bt !== TYPE_EXPRESSION &&
      bt !== TYPE_TSQL
    ) {
      return false;
    }
    const sz3 = a.len + b.len + 1;
    if (sz3 >= TOKEN_SIZE) return false;
    const head = findSlot(a.val, 0, a.val.length);
    if (head === -1 || tableHeads[head] === 0) return false;
    const merged = a.val + ' ' + b.val;
    const ch = lookupWord(merged);
    if (ch === CHAR_NULL) return false;
    a.type = ch;
    a.len = sz3;
    a.val = merged;
    return true;
  }

  /** Reads the next non-comment token into tokenvec[pos]; a comment is remembered instead. */
  private fetchInto(pos: number): { more: boolean; added: boolean } {
    this.current = this.tokenvec[pos];
    const more = this.tokenize();
    if (!more) return NO_MORE;
    if (this.current.type === TYPE_COMMENT) {
      this.lastComment.copyFrom(this.current);
      return MORE_NOT_ADDED;
    }
    this.lastComment.type = CHAR_NULL;
    return MORE_ADDED;
  }

  /**
   * Tokenizes and folds the input into at most 5 tokens (tokenvec[0..n)); returns n
   * (C libinjection_sqli_fold).
   */
  fold(): number {
    const tv = this.tokenvec;
    const lastComment = this.lastComment;
    let pos = 0;
    let left = 0;
    let more = true;
    lastComment.clear();

    // Skip leading comments, left parens, sql types and unary operators.
    this.current = tv[0];
    while (more) {
      more = this.tokenize();
      const t = this.current.type;
      if (!(t === TYPE_COMMENT || t === TYPE_LEFTPARENS || t === TYPE_SQLTYPE || isUnaryOp(this.current))) break;
    }
    if (!more) return 0;
    pos += 1;

    for (;;) {
      // With the maximum number of tokens, a few 5-token shapes fold further.
      if (pos >= MAX_TOKENS) {
        const t0 = tv[0].type;
        const t1 = tv[1].type;
        const t2 = tv[2].type;
        const t3 = tv[3].type;
        const t4 = tv[4].type;
        if (
          (t0 === TYPE_NUMBER &&
            (t1 === TYPE_OPERATOR || t1 === TYPE_COMMA) &&
            t2 === TYPE_LEFTPARENS &&
            t3 === TYPE_NUMBER &&
            t4 === TYPE_RIGHTPARENS) ||
          (t0 === TYPE_BAREWORD &&
            t1 === TYPE_OPERATOR &&
            t2 === TYPE_LEFTPARENS &&
            (t3 === TYPE_BAREWORD || t3 === TYPE_NUMBER) &&
            t4 === TYPE_RIGHTPARENS) ||
          (t0 === TYPE_NUMBER &&
            t1 === TYPE_RIGHTPARENS &&
            t2 === TYPE_COMMA &&
            t3 === TYPE_LEFTPARENS &&
            t4 === TYPE_NUMBER) ||
          (t0 === TYPE_BAREWORD &&
            t1 === TYPE_RIGHTPARENS &&
            t2 === TYPE_OPERATOR &&
            t3 === TYPE_LEFTPARENS &&
            t4 === TYPE_BAREWORD)
        ) {
          if (pos > MAX_TOKENS) {
            tv[1].copyFrom(tv[MAX_TOKENS]);
            pos = 2;
            left = 0;
          } else {
            pos = 1;
            left = 0;
          }
        }
      }

      if (!more || left >= MAX_TOKENS) {
        left = pos;
        break;
      }

      // get up to two tokens
      while (more && pos <= MAX_TOKENS && pos - left < 2) {
        const r = this.fetchInto(pos);
        more = r.more;
        if (r.added) pos += 1;
      }
      if (pos - left < 2) {
        left = pos;
        continue;
      }

      const a = tv[left];
      const b = tv[left + 1];
      const at = a.type;
      const bt = b.type;

      // ---- two-token folds ----
      if (at === TYPE_STRING && bt === TYPE_STRING) {
        // "foo" "bar" is valid SQL: keep only the first string
        pos -= 1;
        this.statsFolds += 1;
        continue;
      } else if (at === TYPE_SEMICOLON && bt === TYPE_SEMICOLON) {
        pos -= 1;
        this.statsFolds += 1;
        continue;
      } else if ((at === TYPE_OPERATOR || at === TYPE_LOGIC_OPERATOR) && (isUnaryOp(b) || bt === TYPE_SQLTYPE)) {
        pos -= 1;
        this.statsFolds += 1;
        left = 0;
        continue;
      } else if (at === TYPE_LEFTPARENS && isUnaryOp(b)) {
        pos -= 1;
        this.statsFolds += 1;
        if (left > 0) left -= 1;
        continue;
      } else if (this.mergeWords(a, b)) {
        pos -= 1;
        this.statsFolds += 1;
        if (left > 0) left -= 1;
        continue;
      } else if (
        at === TYPE_SEMICOLON &&
        bt === TYPE_FUNCTION &&
        (b.val.charCodeAt(0) | 0x20) === 0x69 &&
        (b.val.charCodeAt(1) | 0x20) === 0x66
      ) {
        // T-SQL's standalone IF (or merged "IF NOT"...) after a statement is control flow,
        // not the IF() function. Upstream 3.9.2 tests only the first two letters.
        b.type = TYPE_TSQL;
        continue;
      } else if (
        (at === TYPE_BAREWORD || at === TYPE_VARIABLE) &&
        bt === TYPE_LEFTPARENS &&
        (eqUpper('USER_ID', a.val) ||
          eqUpper('USER_NAME', a.val) ||
          eqUpper('DATABASE', a.val) ||
          eqUpper('PASSWORD', a.val) ||
          eqUpper('USER', a.val) ||
          eqUpper('CURRENT_USER', a.val) ||
          eqUpper('CURRENT_DATE', a.val) ||
          eqUpper('CURRENT_TIME', a.val) ||
          eqUpper('CURRENT_TIMESTAMP', a.val) ||
          eqUpper('LOCALTIME', a.val) ||
          eqUpper('LOCALTIMESTAMP', a.val))
      ) {
        // words that are common column names but functions when called
        a.type = TYPE_FUNCTION;
        continue;
      } else if (at === TYPE_KEYWORD && (eqUpper('IN', a.val) || eqUpper('NOT IN', a.val))) {
        // "IN (" is an operator; "IN BOOLEAN MODE" is not
        a.type = bt === TYPE_LEFTPARENS ? TYPE_OPERATOR : TYPE_BAREWORD;
        continue;
      } else if (at === TYPE_OPERATOR && (eqUpper('LIKE', a.val) || eqUpper('NOT LIKE', a.val))) {
        if (bt === TYPE_LEFTPARENS) a.type = TYPE_FUNCTION; // SELECT LIKE(...
      } else if (
        at === TYPE_SQLTYPE &&
        (bt === TYPE_BAREWORD ||
          bt === TYPE_NUMBER ||
          bt === TYPE_SQLTYPE ||
          bt === TYPE_LEFTPARENS ||
          bt === TYPE_FUNCTION ||
          bt === TYPE_VARIABLE ||
          bt === TYPE_STRING)
      ) {
        a.copyFrom(b);
        pos -= 1;
        this.statsFolds += 1;
        left = 0;
        continue;
      } else if (at === TYPE_COLLATE && bt === TYPE_BAREWORD) {
        // too many collation names to list: one with '_' is taken as a type (C strchr stops at NUL)
        const u = b.val.indexOf('_');
        const z = b.val.indexOf('\0');
        if (u !== -1 && (z === -1 || u < z)) {
          b.type = TYPE_SQLTYPE;
          left = 0;
        }
      } else if (at === TYPE_BACKSLASH) {
        if (isArithmeticOp(b)) {
          // T-SQL parses '\%1' as '0 % 1'
          a.type = TYPE_NUMBER;
        } else {
          // T-SQL parses '\1' as '1'
          a.copyFrom(b);
          pos -= 1;
          this.statsFolds += 1;
        }
        left = 0;
        continue;
      } else if (at === TYPE_LEFTPARENS && bt === TYPE_LEFTPARENS) {
        pos -= 1;
        left = 0;
        this.statsFolds += 1;
        continue;
      } else if (at === TYPE_RIGHTPARENS && bt === TYPE_RIGHTPARENS) {
        pos -= 1;
        left = 0;
        this.statsFolds += 1;
        continue;
      } else if (at === TYPE_LEFTBRACE && bt === TYPE_BAREWORD) {
        // MySQL's "{ ``.``.id }" is valid and too odd to parse: treat "{ ``" as unparsable.
        if (b.len === 0) {
          b.type = TYPE_EVIL;
          return left + 2;
        }
        // ODBC/MySQL "{foo expr}" -> expr: drop the "{ foo" part
        left = 0;
        pos -= 2;
        this.statsFolds += 2;
        continue;
      } else if (bt === TYPE_RIGHTBRACE) {
        pos -= 1;
        left = 0;
        this.statsFolds += 1;
        continue;
      }

      // get one more token
      while (more && pos <= MAX_TOKENS && pos - left < 3) {
        const r = this.fetchInto(pos);
        more = r.more;
        if (r.added) pos += 1;
      }
      if (pos - left < 3) {
        left = pos;
        continue;
      }

      // ---- three-token folds ----
      const t0 = tv[left].type;
      const t1 = tv[left + 1].type;
      const t2 = tv[left + 2].type;
      if (t0 === TYPE_NUMBER && t1 === TYPE_OPERATOR && t2 === TYPE_NUMBER) {
        pos -= 2;
        left = 0;
        continue;
      } else if (t0 === TYPE_OPERATOR && t1 !== TYPE_LEFTPARENS && t2 === TYPE_OPERATOR) {
        left = 0;
        pos -= 2;
        continue;
      } else if (t0 === TYPE_LOGIC_OPERATOR && t2 === TYPE_LOGIC_OPERATOR) {
        pos -= 2;
        left = 0;
        continue;
      } else if (
        t0 === TYPE_VARIABLE &&
        t1 === TYPE_OPERATOR &&
        (t2 === TYPE_VARIABLE || t2 === TYPE_NUMBER || t2 === TYPE_BAREWORD)
      ) {
        pos -= 2;
        left = 0;
        continue;
      } else if (
        (t0 === TYPE_BAREWORD || t0 === TYPE_NUMBER) &&
        t1 === TYPE_OPERATOR &&
        (t2 === TYPE_NUMBER || t2 === TYPE_BAREWORD)
      ) {
        pos -= 2;
        left = 0;
        continue;
      } else if (
        (t0 === TYPE_BAREWORD || t0 === TYPE_NUMBER || t0 === TYPE_VARIABLE || t0 === TYPE_STRING) &&
        t1 === TYPE_OPERATOR &&
        tv[left + 1].val === '::' &&
        t2 === TYPE_SQLTYPE
      ) {
        pos -= 2;
        left = 0;
        this.statsFolds += 2;
        continue;
      } else if (
        (t0 === TYPE_BAREWORD || t0 === TYPE_NUMBER || t0 === TYPE_STRING || t0 === TYPE_VARIABLE) &&
        t1 === TYPE_COMMA &&
        (t2 === TYPE_NUMBER || t2 === TYPE_BAREWORD || t2 === TYPE_STRING || t2 === TYPE_VARIABLE)
      ) {
        pos -= 2;
        left = 0;
        continue;
      } else if (
        (t0 === TYPE_EXPRESSION || t0 === TYPE_GROUP || t0 === TYPE_COMMA) &&
        isUnaryOp(tv[left + 1]) &&
        t2 === TYPE_LEFTPARENS
      ) {
        // SELECT + (, LIMIT + (: drop the unary operator
        tv[left + 1].copyFrom(tv[left + 2]);
        pos -= 1;
        left = 0;
        continue;
      } else if (
        (t0 === TYPE_KEYWORD || t0 === TYPE_EXPRESSION || t0 === TYPE_GROUP) &&
        isUnaryOp(tv[left + 1]) &&
        (t2 === TYPE_NUMBER || t2 === TYPE_BAREWORD || t2 === TYPE_VARIABLE || t2 === TYPE_STRING || t2 === TYPE_FUNCTION)
      ) {
        // select - 1
        tv[left + 1].copyFrom(tv[left + 2]);
        pos -= 1;
        left = 0;
        continue;
      } else if (
        t0 === TYPE_COMMA &&
        isUnaryOp(tv[left + 1]) &&
        (t2 === TYPE_NUMBER || t2 === TYPE_BAREWORD || t2 === TYPE_VARIABLE || t2 === TYPE_STRING)
      ) {
        // ", -1" -> ",1" and back up so "1,-1" can fold to "1"
        tv[left + 1].copyFrom(tv[left + 2]);
        left = 0;
        pos -= 3;
        continue;
      } else if (t0 === TYPE_COMMA && isUnaryOp(tv[left + 1]) && t2 === TYPE_FUNCTION) {
        // 1,-sin(1) -> 1,sin(1)
        tv[left + 1].copyFrom(tv[left + 2]);
        pos -= 1;
        left = 0;
        continue;
      } else if (t0 === TYPE_BAREWORD && t1 === TYPE_DOT && t2 === TYPE_BAREWORD) {
        // databasename.table
        pos -= 2;
        left = 0;
        continue;
      } else if (t0 === TYPE_EXPRESSION && t1 === TYPE_DOT && t2 === TYPE_BAREWORD) {
        // select . `foo` -> select `foo`
        tv[left + 1].copyFrom(tv[left + 2]);
        pos -= 1;
        left = 0;
        continue;
      } else if (t0 === TYPE_FUNCTION && t1 === TYPE_LEFTPARENS && t2 !== TYPE_RIGHTPARENS) {
        // USER() takes no arguments, so USER(foo) is not that function
        if (eqUpper('USER', tv[left].val)) tv[left].type = TYPE_BAREWORD;
      }

      // no fold: the left-most token is final
      left += 1;
    }

    // Put back a trailing comment if there is room.
    if (left < MAX_TOKENS && lastComment.type === TYPE_COMMENT) {
      tv[left].copyFrom(lastComment);
      left += 1;
    }
    // a 6th token may have been read only to classify the 5th
    if (left > MAX_TOKENS) left = MAX_TOKENS;
    return left;
  }

  /**
   * Fingerprint of the input in one context (flags), e.g. "s&1UE"; "X" when unparsable
   * (C libinjection_sqli_fingerprint).
   */
  computeFingerprint(flags: number): string {
    this.reset(flags);
    const tlen = this.fold();
    const tv = this.tokenvec;
    // PHP-style unterminated empty backtick at the end acts as a comment
    if (tlen > 2) {
      const last = tv[tlen - 1];
      if (last.type === TYPE_BAREWORD && last.strOpen === CHAR_TICK && last.len === 0 && last.strClose === CHAR_NULL) {
        last.type = TYPE_COMMENT;
      }
    }
    let fp = '';
    let evil = false;
    for (let i = 0; i < tlen; i++) {
      const t = tv[i].type;
      if (t === TYPE_EVIL) evil = true;
      fp += CHAR_STRINGS[t];
    }
    if (evil) {
      fp = 'X';
      tv[0].type = TYPE_EVIL;
      tv[0].val = 'X';
      tv[1].type = CHAR_NULL;
    }
    this.fingerprint = fp;
    return fp;
  }

  /** Is the current fingerprint in the SQLi list (C libinjection_sqli_blacklist)? */
  blacklist(): boolean {
    const fp = this.fingerprint;
    if (fp.length < 1) return false;
    return lookupWord('0' + fp) === TYPE_FINGERPRINT;
  }

  /** Second-stage checks that drop likely false positives (C libinjection_sqli_not_whitelist). */
  notWhitelist(): boolean {
    const fp = this.fingerprint;
    const tlen = fp.length;
    const tv = this.tokenvec;
    if (tlen > 1 && fp.charCodeAt(tlen - 1) === TYPE_COMMENT) {
      // SQL Server's audit log skips statements mentioning sp_password: a known evasion
      if (this.s.indexOf('sp_password') !== -1) return true;
    }
    switch (tlen) {
      case 2: {
        if (fp.charCodeAt(1) === TYPE_UNION) {
          // a bare "1 union" is common text; it is SQLi only with folding or comments
          return this.statsTokens !== 2;
        }
        // '#' comments produce too many false positives
        if (tv[1].val.charCodeAt(0) === 0x23) return false;
        // 'nc': only /* comments count, not -- or #
        if (tv[0].type === TYPE_BAREWORD && tv[1].type === TYPE_COMMENT && tv[1].val.charCodeAt(0) !== 0x2f) {
          return false;
        }
        if (tv[0].type === TYPE_NUMBER && tv[1].type === TYPE_COMMENT && tv[1].val.charCodeAt(0) === 0x2f) {
          return true;
        }
        // "1c": base64-like values such as 1234-ABC-- are not SQLi, "1234 --" is
        if (tv[0].type === TYPE_NUMBER && tv[1].type === TYPE_COMMENT) {
          if (this.statsTokens > 2) return true;
          const ch = this.at(tv[0].len);
          // C reads a signed char, so bytes >= 0x80 count as "<= 32" too
          if (ch <= 32 || ch >= 0x80) return true;
          const ch1 = this.at(tv[0].len + 1);
          if (ch === 0x2f && ch1 === 0x2a) return true;
          if (ch === 0x2d && ch1 === 0x2d) return true;
          return false;
        }
        // plain text often has "--" in it: only input ending in "--" counts
        if (tv[1].len > 2 && tv[1].val.charCodeAt(0) === 0x2d) return false;
        break;
      }
      case 3: {
        if (fp === 'sos' || fp === 's&s') {
          // ...foo' + 'bar...: no opening and no closing quote
          return tv[0].strOpen === CHAR_NULL && tv[2].strClose === CHAR_NULL && tv[0].strClose === tv[2].strOpen;
        } else if (fp === 's&n' || fp === 'n&1' || fp === '1&1' || fp === '1&v' || fp === '1&s') {
          // 'sexy and 17' is not SQLi, 'sexy and 17<18' is
          if (this.statsTokens === 3) return false;
        } else if (tv[1].type === TYPE_KEYWORD) {
          // only INTO OUTFILE / INTO DUMPFILE is SQLi
          if (tv[1].len < 5 || !startsWithUpper(tv[1].val, 'INTO')) return false;
        }
        break;
      }
      default:
        break;
    }
    return true;
  }

  /** C libinjection_sqli_check_fingerprint. */
  checkFingerprint(): boolean {
    return this.blacklist() && this.notWhitelist();
  }

  /**
   * Tries the input as-is, then inside a single quote and a double quote context, with
   * ANSI and MySQL comment rules (C libinjection_is_sqli).
   */
  isSqli(): boolean {
    if (this.slen === 0) return false;
    this.computeFingerprint(FLAG_QUOTE_NONE | FLAG_SQL_ANSI);
    if (this.checkFingerprint()) return true;
    if (this.reparseAsMysql()) {
      this.computeFingerprint(FLAG_QUOTE_NONE | FLAG_SQL_MYSQL);
      if (this.checkFingerprint()) return true;
    }
    if (this.s.indexOf("'") !== -1) {
      this.computeFingerprint(FLAG_QUOTE_SINGLE | FLAG_SQL_ANSI);
      if (this.checkFingerprint()) return true;
      if (this.reparseAsMysql()) {
        this.computeFingerprint(FLAG_QUOTE_SINGLE | FLAG_SQL_MYSQL);
        if (this.checkFingerprint()) return true;
      }
    }
    if (this.s.indexOf('"') !== -1) {
      this.computeFingerprint(FLAG_QUOTE_DOUBLE | FLAG_SQL_MYSQL);
      if (this.checkFingerprint()) return true;
    }
    return false;
  }

  private reparseAsMysql(): boolean {
    return this.statsCommentDdx !== 0 || this.statsCommentHash !== 0;
  }
}

const NO_MORE = { more: false, added: false } as const;
const MORE_NOT_ADDED = { more: true, added: false } as const;
const MORE_ADDED = { more: true, added: true } as const;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** First `word.length` chars of val equal `word` ignoring ASCII case. */
function startsWithUpper(val: string, word: string): boolean {
  if (val.length < word.length) return false;
  for (let i = 0; i < word.length; i++) {
    let c = val.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) c -= 0x20;
    if (c !== word.charCodeAt(i)) return false;
  }
  return true;
}
