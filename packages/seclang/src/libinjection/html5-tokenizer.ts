// TypeScript port of libinjection's HTML5 tokenizer (libinjection_html5.c), the front end
// of the XSS detector. It follows the HTML5 tokenizer spec loosely, plus old-browser quirks.
//
// Copyright (c) 2012-2016, Nick Galbreath. All rights reserved.
// Redistribution and use in source and binary forms, with or without modification, are
// permitted under the BSD-3-Clause licence; the full notice is in ./LICENSE
// (https://github.com/client9/libinjection). Port for Palisade; C quirks that change
// results (signed chars, NUL counted as white space by strchr) are kept.
//
// Input is a byte string (char codes 0-255). Tokens are reported as offsets into it, so
// tokenizing allocates nothing.

export const Html5TokenType = {
  DATA_TEXT: 0,
  TAG_NAME_OPEN: 1,
  TAG_NAME_CLOSE: 2,
  TAG_NAME_SELFCLOSE: 3,
  TAG_DATA: 4,
  TAG_CLOSE: 5,
  ATTR_NAME: 6,
  ATTR_VALUE: 7,
  TAG_COMMENT: 8,
  DOCTYPE: 9,
} as const;
export type Html5TokenType = (typeof Html5TokenType)[keyof typeof Html5TokenType];

export const html5TokenTypeNames: readonly string[] = [
  'DATA_TEXT',
  'TAG_NAME_OPEN',
  'TAG_NAME_CLOSE',
  'TAG_NAME_SELFCLOSE',
  'TAG_DATA',
  'TAG_CLOSE',
  'ATTR_NAME',
  'ATTR_VALUE',
  'TAG_COMMENT',
  'DOCTYPE',
];

/** Where tokenizing starts: in text, or inside an attribute value of some quoting. */
export const Html5Flags = {
  DATA_STATE: 0,
  VALUE_NO_QUOTE: 1,
  VALUE_SINGLE_QUOTE: 2,
  VALUE_DOUBLE_QUOTE: 3,
  VALUE_BACK_QUOTE: 4,
} as const;
export type Html5Flags = (typeof Html5Flags)[keyof typeof Html5Flags];

const T = Html5TokenType;

const S_EOF = 0;
const S_DATA = 1;
const S_TAG_NAME_CLOSE = 2;
const S_BEFORE_ATTRIBUTE_NAME = 3;
const S_AFTER_ATTRIBUTE_VALUE_QUOTED = 4;
const S_SELF_CLOSING_START_TAG = 5;
const S_ATTRIBUTE_VALUE_SINGLE = 6;
const S_ATTRIBUTE_VALUE_DOUBLE = 7;
const S_ATTRIBUTE_VALUE_BACK = 8;
const S_TAG_OPEN = 9;
const S_AFTER_ATTRIBUTE_NAME = 10;
const S_BEFORE_ATTRIBUTE_VALUE = 11;

const CHAR_STRINGS: readonly string[] = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i));
const CHAR_EOF = -1;
const CHAR_BANG = 0x21;
const CHAR_DOUBLE = 0x22;
const CHAR_PERCENT = 0x25;
const CHAR_SINGLE = 0x27;
const CHAR_DASH = 0x2d;
const CHAR_SLASH = 0x2f;
const CHAR_LT = 0x3c;
const CHAR_EQUALS = 0x3d;
const CHAR_GT = 0x3e;
const CHAR_QUESTION = 0x3f;
const CHAR_RIGHTB = 0x5d;
const CHAR_TICK = 0x60;

/** C strchr(" \t\n\v\f\r", ch) also matches NUL (the terminator). */
function isWhite(ch: number): boolean {
  return ch === 0x20 || (ch >= 0x09 && ch <= 0x0d) || ch === 0;
}

/** s[p..] starts with the upper-case ASCII `word`, ignoring ASCII case only. */
function startsWithAsciiCi(s: string, p: number, word: string): boolean {
  for (let i = 0; i < word.length; i++) {
    let c = s.charCodeAt(p + i);
    if (c >= 0x61 && c <= 0x7a) c -= 0x20;
    if (c !== word.charCodeAt(i)) return false;
  }
  return true;
}

function isAsciiLetter(ch: number): boolean {
  return (ch >= 0x61 && ch <= 0x7a) || (ch >= 0x41 && ch <= 0x5a);
}

/** Streaming HTML5 tokenizer (C h5_state_t + libinjection_h5_next). */
export class Html5Tokenizer {
  s = '';
  len = 0;
  pos = 0;
  private isClose = false;
  private state = S_EOF;
  tokenStart = 0;
  tokenLen = 0;
  tokenType: Html5TokenType = T.DATA_TEXT;

  constructor(input = '', flags: Html5Flags = Html5Flags.DATA_STATE) {
    this.init(input, flags);
  }

  init(input: string, flags: Html5Flags = Html5Flags.DATA_STATE): this {
    this.s = input;
    this.len = input.length;
    this.pos = 0;
    this.isClose = false;
    this.tokenStart = 0;
    this.tokenLen = 0;
    this.tokenType = T.DATA_TEXT;
    switch (flags) {
      case Html5Flags.VALUE_NO_QUOTE:
        this.state = S_BEFORE_ATTRIBUTE_NAME;
        break;
      case Html5Flags.VALUE_SINGLE_QUOTE:
        this.state = S_ATTRIBUTE_VALUE_SINGLE;
        break;
      case Html5Flags.VALUE_DOUBLE_QUOTE:
        this.state = S_ATTRIBUTE_VALUE_DOUBLE;
        break;
      case Html5Flags.VALUE_BACK_QUOTE:
        this.state = S_ATTRIBUTE_VALUE_BACK;
        break;
      default:
        this.state = S_DATA;
    }
    return this;
  }

  /** Text of the current token. */
  get tokenValue(): string {
    return this.s.substr(this.tokenStart, this.tokenLen);
  }

  /** Advances to the next token; false at the end. */
  next(): boolean {
    switch (this.state) {
      case S_DATA:
        return this.stateData();
      case S_TAG_NAME_CLOSE:
        return this.stateTagNameClose();
      case S_BEFORE_ATTRIBUTE_NAME:
        return this.stateBeforeAttributeName();
      case S_AFTER_ATTRIBUTE_VALUE_QUOTED:
        return this.stateAfterAttributeValueQuoted();
      case S_SELF_CLOSING_START_TAG:
        return this.stateSelfClosingStartTag();
      case S_ATTRIBUTE_VALUE_SINGLE:
        return this.stateAttributeValueQuote(CHAR_SINGLE);
      case S_ATTRIBUTE_VALUE_DOUBLE:
        return this.stateAttributeValueQuote(CHAR_DOUBLE);
      case S_ATTRIBUTE_VALUE_BACK:
        return this.stateAttributeValueQuote(CHAR_TICK);
      case S_TAG_OPEN:
        return this.stateTagOpen();
      case S_AFTER_ATTRIBUTE_NAME:
        return this.stateAfterAttributeName();
      case S_BEFORE_ATTRIBUTE_VALUE:
        return this.stateBeforeAttributeValue();
      default:
        return false;
    }
  }

  private at(i: number): number {
    return i < this.len ? this.s.charCodeAt(i) : 0;
  }

  private indexOfChar(ch: number, from: number): number {
    // native indexOf is much faster than a charCodeAt loop on long inputs
    return this.s.indexOf(CHAR_STRINGS[ch], from);
  }

  private emit(type: Html5TokenType, start: number, len: number): true {
    this.tokenType = type;
    this.tokenStart = start;
    this.tokenLen = len;
    return true;
  }

  /**
   * Skips white space (NUL, VT and CR too: IE-isms). Returns the next char like C's signed
   * `char`, so byte 0xFF reads as -1, i.e. as end of input.
   */
  private skipWhite(): number {
    while (this.pos < this.len) {
      const ch = this.s.charCodeAt(this.pos);
      if (ch === 0x00 || ch === 0x20 || (ch >= 0x09 && ch <= 0x0d)) {
        this.pos += 1;
      } else {
        return ch >= 0x80 ? ch - 0x100 : ch;
      }
    }
    return CHAR_EOF;
  }

  private stateData(): boolean {
    const idx = this.indexOfChar(CHAR_LT, this.pos);
    if (idx === -1) {
      this.emit(T.DATA_TEXT, this.pos, this.len - this.pos);
      this.state = S_EOF;
      return this.tokenLen !== 0;
    }
    this.emit(T.DATA_TEXT, this.pos, idx - this.pos);
    this.pos = idx + 1;
    this.state = S_TAG_OPEN;
    if (this.tokenLen === 0) return this.stateTagOpen();
    return true;
  }

  private stateTagOpen(): boolean {
    if (this.pos >= this.len) return false;
    const ch = this.s.charCodeAt(this.pos);
    if (ch === CHAR_BANG) {
      this.pos += 1;
      return this.stateMarkupDeclarationOpen();
    } else if (ch === CHAR_SLASH) {
      this.pos += 1;
      this.isClose = true;
      return this.stateEndTagOpen();
    } else if (ch === CHAR_QUESTION) {
      this.pos += 1;
      return this.stateBogusComment();
    } else if (ch === CHAR_PERCENT) {
      // not in the spec: <% ... %> comments of IE <= 9 and old Safari
      this.pos += 1;
      return this.stateBogusComment2();
    } else if (isAsciiLetter(ch) || ch === 0) {
      // IE ignores NUL characters here
      return this.stateTagName();
    }
    if (this.pos === 0) return this.stateData();
    // "<" followed by anything else is just text
    this.emit(T.DATA_TEXT, this.pos - 1, 1);
    this.state = S_DATA;
    return true;
  }

  private stateEndTagOpen(): boolean {
    if (this.pos >= this.len) return false;
    const ch = this.s.charCodeAt(this.pos);
    if (ch === CHAR_GT) return this.stateData();
    if (isAsciiLetter(ch)) return this.stateTagName();
    this.isClose = false;
    return this.stateBogusComment();
  }

  private stateTagNameClose(): boolean {
    this.isClose = false;
    this.emit(T.TAG_NAME_CLOSE, this.pos, 1);
    this.pos += 1;
    this.state = this.pos < this.len ? S_DATA : S_EOF;
    return true;
  }

  private stateTagName(): boolean {
    const s = this.s;
    let pos = this.pos;
    while (pos < this.len) {
      const ch = s.charCodeAt(pos);
      if (ch === 0) {
        // old browsers allow and ignore NULs in tag names
        pos += 1;
      } else if (isWhite(ch)) {
        this.emit(T.TAG_NAME_OPEN, this.pos, pos - this.pos);
        this.pos = pos + 1;
        this.state = S_BEFORE_ATTRIBUTE_NAME;
        return true;
      } else if (ch === CHAR_SLASH) {
        this.emit(T.TAG_NAME_OPEN, this.pos, pos - this.pos);
        this.pos = pos + 1;
        this.state = S_SELF_CLOSING_START_TAG;
        return true;
      } else if (ch === CHAR_GT) {
        if (this.isClose) {
          this.emit(T.TAG_CLOSE, this.pos, pos - this.pos);
          this.pos = pos + 1;
          this.isClose = false;
          this.state = S_DATA;
        } else {
          this.emit(T.TAG_NAME_OPEN, this.pos, pos - this.pos);
          this.pos = pos;
          this.state = S_TAG_NAME_CLOSE;
        }
        return true;
      } else {
        pos += 1;
      }
    }
    this.emit(T.TAG_NAME_OPEN, this.pos, this.len - this.pos);
    this.state = S_EOF;
    return true;
  }

  private stateBeforeAttributeName(): boolean {
    const ch = this.skipWhite();
    if (ch === CHAR_EOF) return false;
    if (ch === CHAR_SLASH) {
      this.pos += 1;
      return this.stateSelfClosingStartTag();
    }
    if (ch === CHAR_GT) {
      this.state = S_DATA;
      this.emit(T.TAG_NAME_CLOSE, this.pos, 1);
      this.pos += 1;
      return true;
    }
    return this.stateAttributeName();
  }

  private stateAttributeName(): boolean {
    const s = this.s;
    let pos = this.pos + 1;
    while (pos < this.len) {
      const ch = s.charCodeAt(pos);
      if (isWhite(ch)) {
        this.emit(T.ATTR_NAME, this.pos, pos - this.pos);
        this.state = S_AFTER_ATTRIBUTE_NAME;
        this.pos = pos + 1;
        return true;
      } else if (ch === CHAR_SLASH) {
        this.emit(T.ATTR_NAME, this.pos, pos - this.pos);
        this.state = S_SELF_CLOSING_START_TAG;
        this.pos = pos + 1;
        return true;
      } else if (ch === CHAR_EQUALS) {
        this.emit(T.ATTR_NAME, this.pos, pos - this.pos);
        this.state = S_BEFORE_ATTRIBUTE_VALUE;
        this.pos = pos + 1;
        return true;
      } else if (ch === CHAR_GT) {
        this.emit(T.ATTR_NAME, this.pos, pos - this.pos);
        this.state = S_TAG_NAME_CLOSE;
        this.pos = pos;
        return true;
      }
      pos += 1;
    }
    this.emit(T.ATTR_NAME, this.pos, this.len - this.pos);
    this.state = S_EOF;
    this.pos = this.len;
    return true;
  }

  private stateAfterAttributeName(): boolean {
    const c = this.skipWhite();
    switch (c) {
      case CHAR_EOF:
        return false;
      case CHAR_SLASH:
        this.pos += 1;
        return this.stateSelfClosingStartTag();
      case CHAR_EQUALS:
        this.pos += 1;
        return this.stateBeforeAttributeValue();
      case CHAR_GT:
        return this.stateTagNameClose();
      default:
        return this.stateAttributeName();
    }
  }

  private stateBeforeAttributeValue(): boolean {
    const c = this.skipWhite();
    if (c === CHAR_EOF) {
      this.state = S_EOF;
      return false;
    }
    if (c === CHAR_DOUBLE) return this.stateAttributeValueQuote(CHAR_DOUBLE);
    if (c === CHAR_SINGLE) return this.stateAttributeValueQuote(CHAR_SINGLE);
    // back-quoted values are an IE extension
    if (c === CHAR_TICK) return this.stateAttributeValueQuote(CHAR_TICK);
    return this.stateAttributeValueNoQuote();
  }

  private stateAttributeValueQuote(qchar: number): boolean {
    // At pos 0 we started inside a value (a quote context), so there is no quote to skip.
    if (this.pos > 0) this.pos += 1;
    const idx = this.indexOfChar(qchar, this.pos);
    if (idx === -1) {
      this.emit(T.ATTR_VALUE, this.pos, this.len - this.pos);
      this.state = S_EOF;
    } else {
      this.emit(T.ATTR_VALUE, this.pos, idx - this.pos);
      this.state = S_AFTER_ATTRIBUTE_VALUE_QUOTED;
      this.pos += this.tokenLen + 1;
    }
    return true;
  }

  private stateAttributeValueNoQuote(): boolean {
    const s = this.s;
    let pos = this.pos;
    while (pos < this.len) {
      const ch = s.charCodeAt(pos);
      if (isWhite(ch)) {
        this.emit(T.ATTR_VALUE, this.pos, pos - this.pos);
        this.pos = pos + 1;
        this.state = S_BEFORE_ATTRIBUTE_NAME;
        return true;
      } else if (ch === CHAR_GT) {
        this.emit(T.ATTR_VALUE, this.pos, pos - this.pos);
        this.pos = pos;
        this.state = S_TAG_NAME_CLOSE;
        return true;
      }
      pos += 1;
    }
    this.state = S_EOF;
    this.emit(T.ATTR_VALUE, this.pos, this.len - this.pos);
    return true;
  }

  private stateAfterAttributeValueQuoted(): boolean {
    if (this.pos >= this.len) return false;
    const ch = this.s.charCodeAt(this.pos);
    if (isWhite(ch)) {
      this.pos += 1;
      return this.stateBeforeAttributeName();
    } else if (ch === CHAR_SLASH) {
      this.pos += 1;
      return this.stateSelfClosingStartTag();
    } else if (ch === CHAR_GT) {
      this.emit(T.TAG_NAME_CLOSE, this.pos, 1);
      this.pos += 1;
      this.state = S_DATA;
      return true;
    }
    return this.stateBeforeAttributeName();
  }

  private stateSelfClosingStartTag(): boolean {
    if (this.pos >= this.len) return false;
    if (this.s.charCodeAt(this.pos) === CHAR_GT) {
      this.emit(T.TAG_NAME_SELFCLOSE, this.pos - 1, 2);
      this.state = S_DATA;
      this.pos += 1;
      return true;
    }
    return this.stateBeforeAttributeName();
  }

  private stateBogusComment(): boolean {
    const idx = this.indexOfChar(CHAR_GT, this.pos);
    if (idx === -1) {
      this.emit(T.TAG_COMMENT, this.pos, this.len - this.pos);
      this.pos = this.len;
      this.state = S_EOF;
    } else {
      this.emit(T.TAG_COMMENT, this.pos, idx - this.pos);
      this.pos = idx + 1;
      this.state = S_DATA;
    }
    return true;
  }

  /** <% ... %> */
  private stateBogusComment2(): boolean {
    let pos = this.pos;
    for (;;) {
      const idx = this.indexOfChar(CHAR_PERCENT, pos);
      if (idx === -1 || idx + 1 >= this.len) {
        this.emit(T.TAG_COMMENT, this.pos, this.len - this.pos);
        this.pos = this.len;
        this.state = S_EOF;
        return true;
      }
      if (this.s.charCodeAt(idx + 1) !== CHAR_GT) {
        pos = idx + 1;
        continue;
      }
      this.emit(T.TAG_COMMENT, this.pos, idx - this.pos);
      this.pos = idx + 2;
      this.state = S_DATA;
      return true;
    }
  }

  private stateMarkupDeclarationOpen(): boolean {
    const s = this.s;
    const p = this.pos;
    const remaining = this.len - p;
    if (remaining >= 7 && startsWithAsciiCi(s, p, 'DOCTYPE')) {
      return this.stateDoctype();
    } else if (remaining >= 7 && s.substr(p, 7) === '[CDATA[') {
      this.pos += 7;
      return this.stateCdata();
    } else if (remaining >= 2 && s.charCodeAt(p) === CHAR_DASH && s.charCodeAt(p + 1) === CHAR_DASH) {
      this.pos += 2;
      return this.stateComment();
    }
    return this.stateBogusComment();
  }

  /** Comments end at EOF, "-->" or "-!>" (NULs between the dashes are ignored). */
  private stateComment(): boolean {
    const s = this.s;
    const end = this.len;
    let pos = this.pos;
    for (;;) {
      const idx = this.indexOfChar(CHAR_DASH, pos);
      if (idx === -1 || idx > end - 3) return this.commentToEof();
      let offset = 1;
      while (idx + offset < end && s.charCodeAt(idx + offset) === 0) offset += 1;
      if (idx + offset === end) return this.commentToEof();
      let ch = s.charCodeAt(idx + offset);
      if (ch !== CHAR_DASH && ch !== CHAR_BANG) {
        pos = idx + 1;
        continue;
      }
      offset += 1;
      if (idx + offset === end) return this.commentToEof();
      ch = s.charCodeAt(idx + offset);
      if (ch !== CHAR_GT) {
        pos = idx + 1;
        continue;
      }
      offset += 1;
      this.emit(T.TAG_COMMENT, this.pos, idx - this.pos);
      this.pos = idx + offset;
      this.state = S_DATA;
      return true;
    }
  }

  private commentToEof(): boolean {
    this.state = S_EOF;
    return this.emit(T.TAG_COMMENT, this.pos, this.len - this.pos);
  }

  private stateCdata(): boolean {
    let pos = this.pos;
    for (;;) {
      const idx = this.indexOfChar(CHAR_RIGHTB, pos);
      if (idx === -1 || idx > this.len - 3) {
        this.state = S_EOF;
        return this.emit(T.DATA_TEXT, this.pos, this.len - this.pos);
      } else if (this.at(idx + 1) === CHAR_RIGHTB && this.at(idx + 2) === CHAR_GT) {
        this.state = S_DATA;
        this.emit(T.DATA_TEXT, this.pos, idx - this.pos);
        this.pos = idx + 3;
        return true;
      }
      pos = idx + 1;
    }
  }

  private stateDoctype(): boolean {
    this.tokenStart = this.pos;
    this.tokenType = T.DOCTYPE;
    const idx = this.indexOfChar(CHAR_GT, this.pos);
    if (idx === -1) {
      this.state = S_EOF;
      this.tokenLen = this.len - this.pos;
    } else {
      this.state = S_DATA;
      this.tokenLen = idx - this.pos;
      this.pos = idx + 1;
    }
    return true;
  }
}
