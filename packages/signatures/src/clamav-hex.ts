import { lowerByte, mergeLiterals, type PatternToken } from './byte-pattern.ts';

export interface HexParseError {
  message: string;
  /** 0-based index into the hex text. */
  index: number;
}

export interface HexModifiers {
  nocase?: boolean;
  wide?: boolean;
}

const HEX = '0123456789abcdef';

/**
 * Parses a ClamAV body-signature hex string (`.ndb`, `.ldb` subsignatures):
 * `aa ?? a? ?a * {n} {n-} {-m} {n-m} [n-m] (aa|bb) !(aa|bb)`.
 */
export function parseClamavHex(text: string, mods: HexModifiers = {}): PatternToken[] | HexParseError {
  const s = text.toLowerCase();
  let i = 0;
  const fail = (message: string, index = i): HexParseError => ({ message, index });

  const byteAt = (): PatternToken | HexParseError => {
    const a = s[i];
    const b = s[i + 1];
    if (a === undefined || b === undefined) return fail('incomplete hex byte');
    const hi = a === '?' ? -1 : HEX.indexOf(a);
    const lo = b === '?' ? -1 : HEX.indexOf(b);
    if ((a !== '?' && hi < 0) || (b !== '?' && lo < 0)) return fail(`bad hex byte "${text.slice(i, i + 2)}"`);
    i += 2;
    if (hi >= 0 && lo >= 0) return lit(Uint8Array.of(hi * 16 + lo), mods.nocase ?? false);
    return { t: 'mask', value: (hi < 0 ? 0 : hi << 4) | (lo < 0 ? 0 : lo), mask: (hi < 0 ? 0 : 0xf0) | (lo < 0 ? 0 : 0x0f) };
  };

  const number = (): number | undefined => {
    const m = /^\d+/.exec(s.slice(i));
    if (!m) return undefined;
    i += m[0].length;
    return Number(m[0]);
  };

  const range = (close: string): PatternToken | HexParseError => {
    const open = i;
    i++;
    const lo = number();
    let min = lo ?? 0;
    let max = min;
    if (s[i] === '-') {
      i++;
      const hi = number();
      max = hi ?? Number.POSITIVE_INFINITY;
      if (lo === undefined && hi === undefined) return fail('empty range', open);
    } else if (lo === undefined) return fail('bad range', open);
    if (s[i] !== close) return fail(`expected "${close}"`);
    i++;
    if (min > max) return fail('range minimum above maximum', open);
    if (close === ']' && (max > 32 || !Number.isFinite(max))) return fail('[n-m] ranges are limited to 32 bytes', open);
    min = Math.max(0, min);
    return { t: 'gap', min, max };
  };

  const alternatives = (negate: boolean): PatternToken | HexParseError => {
    const open = i;
    i++;
    if (s[i] === 'b' || s[i] === 'l' || s[i] === 'w') {
      if (s[i + 1] === ')') return fail(`boundary markers "(${s[i]!.toUpperCase()})" are not supported`, open);
    }
    const options: PatternToken[][] = [];
    let cur: PatternToken[] = [];
    while (i < s.length && s[i] !== ')') {
      if (s[i] === '|') {
        options.push(cur);
        cur = [];
        i++;
        continue;
      }
      const b = byteAt();
      if ('message' in b) return b;
      cur.push(b);
    }
    if (s[i] !== ')') return fail('unclosed "("', open);
    i++;
    options.push(cur);
    if (options.some((o) => o.length === 0)) return fail('empty alternative', open);
    if (negate && options.some((o) => o.length !== options[0]!.length)) {
      return fail('negated alternatives must all have the same length', open);
    }
    return { t: 'alt', options: options.map((o) => mergeOption(o)), negate };
  };

  const tokens: PatternToken[] = [];
  while (i < s.length) {
    const c = s[i]!;
    let tok: PatternToken | HexParseError;
    if (c === '*') {
      i++;
      tok = { t: 'gap', min: 0, max: Number.POSITIVE_INFINITY };
    } else if (c === '{') tok = range('}');
    else if (c === '[') tok = range(']');
    else if (c === '(') tok = alternatives(false);
    else if (c === '!' && s[i + 1] === '(') {
      i++;
      tok = alternatives(true);
    } else tok = byteAt();
    if ('message' in tok) return tok;
    tokens.push(tok);
  }
  if (tokens.length === 0) return fail('empty signature', 0);
  const last = tokens[tokens.length - 1]!;
  if (tokens[0]!.t === 'gap' || last.t === 'gap') return fail('a signature cannot start or end with a gap', 0);
  return mergeLiterals(mods.wide ? widen(tokens) : tokens);
}

function lit(bytes: Uint8Array, fold: boolean): PatternToken {
  return { t: 'lit', bytes: fold ? bytes.map((b) => lowerByte[b]!) : bytes, fold };
}

function mergeOption(o: PatternToken[]): PatternToken[] {
  const out: PatternToken[] = [];
  for (const t of o) {
    const prev = out[out.length - 1];
    if (prev && prev.t === 'lit' && t.t === 'lit' && prev.fold === t.fold) {
      const b = new Uint8Array(prev.bytes.length + t.bytes.length);
      b.set(prev.bytes);
      b.set(t.bytes, prev.bytes.length);
      out[out.length - 1] = { t: 'lit', bytes: b, fold: t.fold };
    } else out.push(t);
  }
  return out;
}

/** UTF-16LE form of an ASCII pattern: every byte is followed by 00; gaps double. */
export function widen(tokens: PatternToken[]): PatternToken[] {
  return tokens.map((t): PatternToken => {
    switch (t.t) {
      case 'lit': {
        const b = new Uint8Array(t.bytes.length * 2);
        t.bytes.forEach((x, k) => {
          b[2 * k] = x;
        });
        return { t: 'lit', bytes: b, fold: t.fold };
      }
      case 'mask':
        return { t: 'alt', options: [[t, { t: 'lit', bytes: Uint8Array.of(0), fold: false }]], negate: false };
      case 'gap':
        return { t: 'gap', min: t.min * 2, max: t.max * 2 };
      case 'alt':
        return { t: 'alt', options: t.options.map(widen), negate: t.negate };
    }
  });
}
