// TypeScript port of libinjection's XSS detector (libinjection_xss.c, 3.9.2): tokenizes the input as
// HTML5 from five starting contexts and flags dangerous tags, attributes, URLs and comments.
//
// Copyright (c) 2012-2016, Nick Galbreath. All rights reserved.
// Redistribution and use in source and binary forms, with or without modification, are
// permitted under the BSD-3-Clause licence; the full notice is in ./LICENSE
// (https://github.com/client9/libinjection). Port for Palisade.

import { Html5Flags, Html5TokenType, Html5Tokenizer } from './html5-tokenizer.ts';
import { toByteString } from './to-byte-string.ts';

const ATTR_NONE = 0;
const ATTR_BLACK = 1; // always banned
const ATTR_URL = 2; // value is URL-like
const ATTR_STYLE = 3;
const ATTR_INDIRECT = 4; // the attribute *name* is given in the value (SVG attributeName)

const BLACK_ATTRS: readonly (readonly [string, number])[] = [
  ['ACTION', ATTR_URL], // form
  ['ATTRIBUTENAME', ATTR_INDIRECT], // SVG
  ['BY', ATTR_URL], // SVG
  ['BACKGROUND', ATTR_URL], // IE6, O11
  ['DATAFORMATAS', ATTR_BLACK], // IE
  ['DATASRC', ATTR_BLACK], // IE
  ['DYNSRC', ATTR_URL], // obsolete img attribute
  ['FILTER', ATTR_STYLE], // Opera, SVG inline style
  ['FORMACTION', ATTR_URL], // HTML5
  ['FOLDER', ATTR_URL], // only on A tags, IE-only
  ['FROM', ATTR_URL], // SVG
  ['HANDLER', ATTR_URL], // SVG Tiny, Opera
  ['HREF', ATTR_URL],
  ['LOWSRC', ATTR_URL], // obsolete img attribute
  ['POSTER', ATTR_URL], // Opera 10,11
  ['SRC', ATTR_URL],
  ['STYLE', ATTR_STYLE],
  ['TO', ATTR_URL], // SVG
  ['VALUES', ATTR_URL], // SVG
  ['XLINK:HREF', ATTR_URL],
];

const BLACK_TAGS: readonly string[] = [
  'APPLET',
  'BASE',
  'COMMENT', // IE http://html5sec.org/#38
  'EMBED',
  'FRAME',
  'FRAMESET',
  'HANDLER', // Opera SVG, effectively a script tag
  'IFRAME',
  'IMPORT',
  'ISINDEX',
  'LINK',
  'LISTENER',
  'META',
  'NOSCRIPT',
  'OBJECT',
  'SCRIPT',
  'STYLE',
  'VMLFRAME',
  'XML',
  'XSS',
];

/**
 * Case-insensitive equality of the upper-case `word` with s[start, start+n), skipping NULs
 * in the input (browsers ignore them). C cstrcasecmp_with_null() == 0.
 */
function equalsIgnoringNul(word: string, s: string, start: number, n: number): boolean {
  // skipping NULs only shortens the input, so a shorter input can never match
  if (n < word.length) return false;
  let k = 0;
  const wl = word.length;
  for (let i = 0; i < n; i++) {
    let cb = s.charCodeAt(start + i);
    if (cb === 0) continue;
    if (k >= wl) return false;
    if (cb >= 0x61 && cb <= 0x7a) cb -= 0x20;
    if (word.charCodeAt(k) !== cb) return false;
    k++;
  }
  return k === wl;
}

function hexValue(ch: number): number {
  if (ch >= 0x30 && ch <= 0x39) return ch - 0x30;
  if (ch >= 0x41 && ch <= 0x46) return ch - 0x41 + 10;
  if (ch >= 0x61 && ch <= 0x66) return ch - 0x61 + 10;
  return 256;
}

/** Decoder position shared by htmlDecodeCharAt's callers (avoids returning a tuple). */
let consumed = 0;

/**
 * Decodes one char or numeric entity (&#65; &#x41;) at s[i], where `len` bytes belong to the
 * value; sets `consumed`. Named entities are not decoded ('&' is returned), as in C. Like
 * the C code it may peek up to two bytes past `len`; past the input end it reads NUL.
 */
function htmlDecodeCharAt(s: string, i: number, len: number): number {
  if (len === 0) {
    consumed = 0;
    return -1;
  }
  consumed = 1;
  const c0 = s.charCodeAt(i);
  if (c0 !== 0x26 || len < 2) return c0;
  if (s.charCodeAt(i + 1) !== 0x23) return 0x26;
  const at = (k: number): number => (i + k < s.length ? s.charCodeAt(i + k) : 0);
  const c2 = at(2);
  let val: number;
  let k: number;
  if (c2 === 0x78 || c2 === 0x58) {
    const d = hexValue(at(3));
    if (d === 256) return 0x26;
    val = d;
    for (k = 4; k < len; k++) {
      const ch = s.charCodeAt(i + k);
      if (ch === 0x3b) {
        consumed = k + 1;
        return val;
      }
      const h = hexValue(ch);
      if (h === 256) {
        consumed = k;
        return val;
      }
      val = val * 16 + h;
      if (val > 0x1000ff) return 0x26;
    }
    consumed = k;
    return val;
  }
  if (c2 < 0x30 || c2 > 0x39) return 0x26;
  val = c2 - 0x30;
  for (k = 3; k < len; k++) {
    const ch = s.charCodeAt(i + k);
    if (ch === 0x3b) {
      consumed = k + 1;
      return val;
    }
    if (ch < 0x30 || ch > 0x39) {
      consumed = k;
      return val;
    }
    val = val * 10 + (ch - 0x30);
    if (val > 0x1000ff) return 0x26;
  }
  consumed = k;
  return val;
}

/**
 * Does the HTML-encoded s[i, i+n) start with the upper-case `prefix`, ignoring case, leading
 * white space/control chars, NULs and newlines? (C htmlencode_startswith)
 */
function htmlEncodedStartsWith(prefix: string, s: string, i: number, n: number): boolean {
  let k = 0;
  let first = true;
  const pl = prefix.length;
  while (n > 0) {
    if (k === pl) return true;
    let cb = htmlDecodeCharAt(s, i, n);
    i += consumed;
    n -= consumed;
    if (first && cb <= 32) continue;
    first = false;
    if (cb === 0 || cb === 10) continue;
    if (cb >= 0x61 && cb <= 0x7a) cb -= 0x20;
    // C compares after a cast to char: only the low byte of a decoded entity counts
    if (prefix.charCodeAt(k) !== (cb & 0xff)) return false;
    k++;
  }
  return k === pl;
}

/** Lists indexed by first letter, so each token is compared with a handful of names only. */
function byFirstLetter<T>(items: readonly T[], name: (t: T) => string): T[][] {
  const index: T[][] = Array.from({ length: 128 }, () => []);
  for (const it of items) index[name(it).charCodeAt(0)].push(it);
  return index;
}

const TAGS_BY_LETTER = byFirstLetter(BLACK_TAGS, (t) => t);
const ATTRS_BY_LETTER = byFirstLetter(BLACK_ATTRS, (a) => a[0]);

/** Upper-cased first non-NUL char of s[start, start+len), or -1. */
function firstLetter(s: string, start: number, len: number): number {
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(start + i);
    if (c !== 0) return c >= 0x61 && c <= 0x7a ? c - 0x20 : c;
  }
  return -1;
}

function isBlackTag(s: string, start: number, len: number): boolean {
  if (len < 3) return false;
  const f = firstLetter(s, start, len);
  if (f >= 0 && f < 128) {
    for (const tag of TAGS_BY_LETTER[f]) {
      if (equalsIgnoringNul(tag, s, start, len)) return true;
    }
  }
  const c0 = s.charCodeAt(start) | 0x20;
  const c1 = s.charCodeAt(start + 1) | 0x20;
  const c2 = s.charCodeAt(start + 2) | 0x20;
  // anything SVG or XSL(T)
  if (c0 === 0x73 && c1 === 0x76 && c2 === 0x67) return true;
  if (c0 === 0x78 && c1 === 0x73 && c2 === 0x6c) return true;
  return false;
}

function isBlackAttr(s: string, start: number, len: number): number {
  if (len < 2) return ATTR_NONE;
  // Only names of 5+ chars: upstream 3.9.2 stopped flagging short "on"/"onx" names (false positives).
  if (len >= 5) {
    // on* event handlers
    if ((s.charCodeAt(start) | 0x20) === 0x6f && (s.charCodeAt(start + 1) | 0x20) === 0x6e) return ATTR_BLACK;
    // XMLNS / XLINK can create arbitrary tags
    if (equalsIgnoringNul('XMLNS', s, start, 5) || equalsIgnoringNul('XLINK', s, start, 5)) return ATTR_BLACK;
  }
  const f = firstLetter(s, start, len);
  if (f >= 0 && f < 128) {
    for (const [name, type] of ATTRS_BY_LETTER[f]) {
      if (equalsIgnoringNul(name, s, start, len)) return type;
    }
  }
  return ATTR_NONE;
}

function isBlackUrl(s: string, start: number, len: number): boolean {
  // skip white space, controls and high-bit bytes (Opera's UTF-8 spaces, EUC-JP leftovers)
  while (len > 0) {
    const c = s.charCodeAt(start);
    if (c > 32 && c < 127) break;
    start++;
    len--;
  }
  return (
    htmlEncodedStartsWith('DATA', s, start, len) ||
    htmlEncodedStartsWith('VIEW-SOURCE', s, start, len) ||
    htmlEncodedStartsWith('JAVA', s, start, len) || // JAVA and JAVASCRIPT
    htmlEncodedStartsWith('VBSCRIPT', s, start, len)
  );
}

const T = Html5TokenType;
const tokenizer = new Html5Tokenizer();

/** XSS check in one starting context (C libinjection_is_xss). */
export function isXssInContext(input: string, flags: Html5Flags): boolean {
  const h5 = tokenizer.init(input, flags);
  const s = input;
  let attr = ATTR_NONE;
  while (h5.next()) {
    const type = h5.tokenType;
    const start = h5.tokenStart;
    const len = h5.tokenLen;
    if (type !== T.ATTR_VALUE) attr = ATTR_NONE;
    if (type === T.DOCTYPE) {
      return true;
    } else if (type === T.TAG_NAME_OPEN) {
      if (isBlackTag(s, start, len)) return true;
    } else if (type === T.ATTR_NAME) {
      attr = isBlackAttr(s, start, len);
    } else if (type === T.ATTR_VALUE) {
      switch (attr) {
        case ATTR_BLACK:
        case ATTR_STYLE:
          return true;
        case ATTR_URL:
          if (isBlackUrl(s, start, len)) return true;
          break;
        case ATTR_INDIRECT:
          if (isBlackAttr(s, start, len) !== ATTR_NONE) return true;
          break;
        default:
          break;
      }
      attr = ATTR_NONE;
    } else if (type === T.TAG_COMMENT) {
      // IE treats '`' as a tag end
      for (let i = 0; i < len; i++) if (s.charCodeAt(start + i) === 0x60) return true;
      if (len > 3) {
        const c0 = s.charCodeAt(start);
        const c1 = s.charCodeAt(start + 1) | 0x20;
        const c2 = s.charCodeAt(start + 2) | 0x20;
        // IE conditional comments <!--[if ...]> and <?xml ...>
        if (c0 === 0x5b && c1 === 0x69 && c2 === 0x66) return true;
        if ((c0 | 0x20) === 0x78 && c1 === 0x6d && c2 === 0x6c) return true;
      }
      if (len > 5) {
        // IE <?import pseudo-tag and XML entity definitions
        if (equalsIgnoringNul('IMPORT', s, start, 6)) return true;
        if (equalsIgnoringNul('ENTITY', s, start, 6)) return true;
      }
    }
  }
  return false;
}

/**
 * libinjection_xss(): true when the input is an XSS attack in HTML text or in an
 * unquoted, single-, double- or back-quoted attribute value. Input is a byte string
 * (char codes 0-255); other strings are checked as their UTF-8 bytes.
 */
export function detectXss(text: string): boolean {
  const input = toByteString(text);
  return (
    isXssInContext(input, Html5Flags.DATA_STATE) ||
    isXssInContext(input, Html5Flags.VALUE_NO_QUOTE) ||
    isXssInContext(input, Html5Flags.VALUE_SINGLE_QUOTE) ||
    isXssInContext(input, Html5Flags.VALUE_DOUBLE_QUOTE) ||
    isXssInContext(input, Html5Flags.VALUE_BACK_QUOTE)
  );
}
