import { type Diagnostic, LineIndex } from '@palisade/diagnostics';
import { lowerByte, mergeLiterals, type PatternToken } from './byte-pattern.ts';
import { widen } from './clamav-hex.ts';
import { translateYaraRegex } from './yara-regex.ts';
import type { YaraExpr, YaraQuantifier, YaraRule, YaraString } from './yara-rule.ts';

class YaraSyntaxError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly pos: number,
  ) {
    super(message);
  }
}

type Tok =
  | { k: 'id'; v: string; pos: number }
  | { k: 'num'; v: number; pos: number }
  | { k: 'str'; v: string; pos: number }
  | { k: 'sid'; v: string; pos: number } // $a, $a*, $
  | { k: 'cnt' | 'off' | 'len'; v: string; pos: number } // #a @a !a
  | { k: 'op'; v: string; pos: number }
  | { k: 'eof'; v: ''; pos: number };

const KEYWORDS_FN = new Set(['uint8', 'uint16', 'uint32', 'uint8be', 'uint16be', 'uint32be', 'int8', 'int16', 'int32', 'int8be', 'int16be', 'int32be']);
const OPS = ['..', '==', '!=', '<=', '>=', '<<', '>>', '<', '>', '(', ')', '[', ']', ',', ':', '+', '-', '*', '\\', '%', '&', '|', '^', '~', '=', '{', '}'];

/** Scans condition-language tokens; string values (text, hex, regex) are read by the parser itself. */
class Lexer {
  pos = 0;
  constructor(readonly src: string) {}

  skip(): void {
    const s = this.src;
    for (;;) {
      while (this.pos < s.length && /\s/.test(s[this.pos]!)) this.pos++;
      if (s.startsWith('//', this.pos)) {
        while (this.pos < s.length && s[this.pos] !== '\n') this.pos++;
      } else if (s.startsWith('/*', this.pos)) {
        const end = s.indexOf('*/', this.pos + 2);
        if (end < 0) throw new YaraSyntaxError('SIG_YARA_SYNTAX', 'unterminated comment', this.pos);
        this.pos = end + 2;
      } else return;
    }
  }

  next(): Tok {
    this.skip();
    const s = this.src;
    const pos = this.pos;
    if (pos >= s.length) return { k: 'eof', v: '', pos };
    const c = s[pos]!;
    let m: RegExpExecArray | null;
    if ((m = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(s.slice(pos, pos + 256)))) {
      this.pos += m[0].length;
      return { k: 'id', v: m[0], pos };
    }
    if ((m = /^(0x[0-9a-fA-F]+|0o[0-7]+|\d+)(KB|MB)?/.exec(s.slice(pos, pos + 64)))) {
      this.pos += m[0].length;
      const t = m[1]!;
      let v = t.startsWith('0x') ? parseInt(t.slice(2), 16) : t.startsWith('0o') ? parseInt(t.slice(2), 8) : Number(t);
      if (m[2] === 'KB') v *= 1024;
      if (m[2] === 'MB') v *= 1024 * 1024;
      return { k: 'num', v, pos };
    }
    if (c === '$' || c === '#' || c === '@' || (c === '!' && /[A-Za-z_]/.test(s[pos + 1] ?? ''))) {
      m = /^[A-Za-z0-9_]*\*?/.exec(s.slice(pos + 1, pos + 256))!;
      this.pos += 1 + m[0].length;
      const k = c === '$' ? 'sid' : c === '#' ? 'cnt' : c === '@' ? 'off' : 'len';
      return { k, v: `$${m[0]}`, pos };
    }
    if (c === '"') {
      const { value, end } = readQuoted(s, pos);
      this.pos = end;
      return { k: 'str', v: value, pos };
    }
    if (c === '!' && s[pos + 1] === '=') {
      this.pos += 2;
      return { k: 'op', v: '!=', pos };
    }
    for (const op of OPS) {
      if (s.startsWith(op, pos)) {
        this.pos += op.length;
        return { k: 'op', v: op, pos };
      }
    }
    throw new YaraSyntaxError('SIG_YARA_SYNTAX', `unexpected character "${c}"`, pos);
  }

  peek(): Tok {
    const save = this.pos;
    const t = this.next();
    this.pos = save;
    return t;
  }
}

/** A double-quoted YARA string with its escapes (\" \\ \t \n \r \xHH); returns raw byte values as chars. */
function readQuoted(s: string, start: number): { value: string; end: number } {
  let i = start + 1;
  let out = '';
  while (i < s.length && s[i] !== '"') {
    const c = s[i]!;
    if (c === '\n') break;
    if (c === '\\') {
      const e = s[i + 1];
      if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 2, i + 4))) {
        out += String.fromCharCode(parseInt(s.slice(i + 2, i + 4), 16));
        i += 4;
        continue;
      }
      const map: Record<string, string> = { '"': '"', '\\': '\\', t: '\t', n: '\n', r: '\r' };
      if (e === undefined || !(e in map)) throw new YaraSyntaxError('SIG_YARA_SYNTAX', `illegal escape sequence "\\${e ?? ''}"`, i);
      out += map[e];
      i += 2;
      continue;
    }
    // Source text is UTF-8: a non-ASCII character stands for its UTF-8 bytes.
    const cp = s.codePointAt(i)!;
    const bytes = new TextEncoder().encode(String.fromCodePoint(cp));
    for (const b of bytes) out += String.fromCharCode(b);
    i += cp > 0xffff ? 2 : 1;
  }
  if (s[i] !== '"') throw new YaraSyntaxError('SIG_YARA_SYNTAX', 'unterminated string', start);
  return { value: out, end: i + 1 };
}

export interface ParsedYara {
  rules: YaraRule[];
  diagnostics: Diagnostic[];
}

/**
 * Parses YARA source. Each rule is parsed on its own: a broken rule yields diagnostics with
 * file:line:column and the parser resynchronizes at the next `rule` keyword, so every problem
 * in a file is reported at once.
 */
export function parseYara(src: string, file: string, knownRules: ReadonlySet<string> = new Set()): ParsedYara {
  const lines = new LineIndex(src);
  const diagnostics: Diagnostic[] = [];
  const rules: YaraRule[] = [];
  const defined = new Set(knownRules);
  const lx = new Lexer(src);
  const diag = (code: string, message: string, pos: number, severity: 'error' | 'warning' = 'error') => {
    const { line, column } = lines.position(pos);
    diagnostics.push({ code, message, severity, file, line, column });
  };
  for (;;) {
    let start: number;
    try {
      lx.skip();
      start = lx.pos;
      const t = lx.peek();
      if (t.k === 'eof') break;
      if (t.k === 'id' && (t.v === 'import' || t.v === 'include')) {
        lx.next();
        const what = lx.next();
        diag(
          t.v === 'import' ? 'SIG_YARA_MODULE_UNSUPPORTED' : 'SIG_YARA_INCLUDE_UNSUPPORTED',
          `${t.v} "${what.v}" is not supported; rules that use it are refused`,
          t.pos,
          t.v === 'import' ? 'warning' : 'error',
        );
        continue;
      }
      const rule = parseRule(lx, file, lines, defined, diag);
      if (rule) {
        if (defined.has(rule.name)) diag('SIG_YARA_DUPLICATE_RULE', `duplicated rule "${rule.name}"`, start);
        else {
          defined.add(rule.name);
          rules.push(rule);
        }
      }
    } catch (e) {
      if (!(e instanceof YaraSyntaxError)) throw e;
      diag(e.code, e.message, e.pos);
      // Resynchronize at the next rule declaration.
      const re = /(^|\n)\s*((private|global)\s+)*rule\s/g;
      re.lastIndex = Math.max(lx.pos, e.pos + 1);
      const m = re.exec(src);
      if (!m) break;
      lx.pos = m.index + m[1]!.length;
    }
  }
  return { rules, diagnostics };
}

function expectOp(lx: Lexer, v: string): Tok {
  const t = lx.next();
  if (t.k !== 'op' || t.v !== v) throw new YaraSyntaxError('SIG_YARA_SYNTAX', `expected "${v}" but found "${t.v || 'end of file'}"`, t.pos);
  return t;
}

function parseRule(
  lx: Lexer,
  file: string,
  lines: LineIndex,
  defined: Set<string>,
  diag: (code: string, message: string, pos: number, severity?: 'error' | 'warning') => void,
): YaraRule | undefined {
  let isPrivate = false;
  let isGlobal = false;
  let t = lx.next();
  while (t.k === 'id' && (t.v === 'private' || t.v === 'global')) {
    if (t.v === 'private') isPrivate = true;
    else isGlobal = true;
    t = lx.next();
  }
  if (t.k !== 'id' || t.v !== 'rule') throw new YaraSyntaxError('SIG_YARA_SYNTAX', `expected "rule" but found "${t.v}"`, t.pos);
  const ruleTok = t;
  const nameTok = lx.next();
  if (nameTok.k !== 'id' || nameTok.v.includes('.')) throw new YaraSyntaxError('SIG_YARA_SYNTAX', 'expected a rule name', nameTok.pos);
  const tags: string[] = [];
  if (lx.peek().v === ':') {
    lx.next();
    while (lx.peek().k === 'id') tags.push(String(lx.next().v));
  }
  expectOp(lx, '{');
  const meta: YaraRule['meta'] = {};
  const strings: YaraString[] = [];
  let condition: YaraExpr | undefined;
  let refused = false;
  const stringPos = new Map<string, number>();
  let lastSection = -1;
  for (;;) {
    const sec = lx.next();
    if (sec.k === 'op' && sec.v === '}') break;
    if (sec.k !== 'id' || !['meta', 'strings', 'condition'].includes(sec.v)) {
      throw new YaraSyntaxError('SIG_YARA_SYNTAX', `expected meta:, strings: or condition: but found "${sec.v}"`, sec.pos);
    }
    const order = ['meta', 'strings', 'condition'].indexOf(sec.v);
    if (order <= lastSection) throw new YaraSyntaxError('SIG_YARA_SYNTAX', `"${sec.v}:" is out of order or repeated (meta, strings, condition)`, sec.pos);
    lastSection = order;
    expectOp(lx, ':');
    if (sec.v === 'meta') {
      while (lx.peek().k === 'id' && !['strings', 'condition'].includes(String(lx.peek().v))) {
        const key = String(lx.next().v);
        expectOp(lx, '=');
        const v = lx.next();
        if (v.k === 'str' || v.k === 'num') meta[key] = v.v;
        else if (v.k === 'id' && (v.v === 'true' || v.v === 'false')) meta[key] = v.v === 'true';
        else if (v.k === 'op' && v.v === '-' && lx.peek().k === 'num') meta[key] = -(lx.next().v as number);
        else throw new YaraSyntaxError('SIG_YARA_SYNTAX', 'bad meta value', v.pos);
      }
    } else if (sec.v === 'strings') {
      while (lx.peek().k === 'sid') {
        const idTok = lx.next() as Tok & { v: string };
        if (idTok.v.endsWith('*')) throw new YaraSyntaxError('SIG_YARA_SYNTAX', 'a string name cannot end with "*"', idTok.pos);
        expectOp(lx, '=');
        if (idTok.v !== '$' && strings.some((s) => s.id === idTok.v)) {
          throw new YaraSyntaxError('SIG_YARA_DUPLICATE_STRING', `duplicated string identifier "${idTok.v}"`, idTok.pos);
        }
        stringPos.set(idTok.v, idTok.pos);
        const s = parseStringValue(lx, idTok, lines);
        if ('unsupported' in s) {
          diag('SIG_YARA_UNSUPPORTED', s.unsupported, s.pos);
          refused = true;
          // Keep a placeholder so the condition still parses and reports its own problems.
          strings.push({ id: idTok.v, kind: 'text', variants: [], wideVariants: [], fullword: false, private: false, line: lines.position(idTok.pos).line });
          continue;
        }
        strings.push(s);
      }
    } else {
      const p = new CondParser(lx, strings, defined);
      condition = p.parseExpr();
      if (p.unsupported) {
        diag('SIG_YARA_UNSUPPORTED', p.unsupported.message, p.unsupported.pos);
        refused = true;
      }
      for (const s of strings) {
        const ats = p.fixedAt.filter(([id]) => id === s.id).map(([, v]) => v);
        const refs = p.refs.filter((id) => id === s.id).length;
        // YARA applies this only to literal strings: text, or hex whose first chained piece
        // (hex strings are split at jumps over 200 bytes or unbounded) has no wildcard or jump.
        const literal = s.kind === 'text' || (s.kind === 'hex' && literalHead(s.variants[0]!));
        if (literal && ats.length > 0 && ats.length === refs && !p.otherUse.has(s.id) && ats.every((v) => v === ats[0])) s.fixedOffset = ats[0];
      }
      for (const s of strings) {
        if (!p.used.has(s.id) && s.id !== '$' && !s.id.startsWith('$_')) {
          throw new YaraSyntaxError('SIG_YARA_UNREFERENCED_STRING', `unreferenced string "${s.id}"`, stringPos.get(s.id) ?? sec.pos);
        }
      }
      const nt = lx.peek();
      if (!(nt.k === 'op' && nt.v === '}')) throw new YaraSyntaxError('SIG_YARA_SYNTAX', `unexpected "${nt.v}" in condition`, nt.pos);
    }
  }
  if (!condition) throw new YaraSyntaxError('SIG_YARA_SYNTAX', `rule "${nameTok.v}" has no condition`, ruleTok.pos);
  if (refused) return undefined;
  return {
    name: nameTok.v,
    tags,
    meta,
    strings,
    condition,
    private: isPrivate,
    global: isGlobal,
    file,
    line: lines.position(ruleTok.pos).line,
  };
}

function literalHead(tokens: PatternToken[]): boolean {
  for (const t of tokens) {
    if (t.t === 'gap' && t.max > 200) return true;
    if (t.t !== 'lit') return false;
  }
  return true;
}

type StringResult = YaraString | { unsupported: string; pos: number };

function parseStringValue(lx: Lexer, idTok: Tok & { v: string }, lines: LineIndex): StringResult {
  lx.skip();
  const s = lx.src;
  const pos = lx.pos;
  const line = lines.position(idTok.pos).line;
  const c = s[pos];
  const base = { id: idTok.v, fullword: false, private: false, line };
  if (c === '"') {
    const { value, end } = readQuoted(s, pos);
    lx.pos = end;
    if (value.length === 0) throw new YaraSyntaxError('SIG_YARA_SYNTAX', 'empty string', pos);
    const mods = readModifiers(lx, ['nocase', 'wide', 'ascii', 'fullword', 'private', 'xor', 'base64', 'base64wide']);
    for (const m of ['xor', 'base64', 'base64wide']) {
      if (mods.has(m)) return { unsupported: `string modifier "${m}" is not supported`, pos: mods.get(m)! };
    }
    const nocase = mods.has('nocase');
    const bytes = Uint8Array.from(value, (ch) => ch.charCodeAt(0));
    const lit: PatternToken = { t: 'lit', bytes: nocase ? bytes.map((b) => lowerByte[b]!) : bytes, fold: nocase };
    const spellings = spellingsOf(mods);
    return {
      ...base,
      kind: 'text',
      variants: spellings.map((w) => (w ? widen([lit]) : [lit])),
      wideVariants: spellings,
      fullword: mods.has('fullword'),
      private: mods.has('private'),
    };
  }
  if (c === '{') {
    const end = s.indexOf('}', pos);
    if (end < 0) throw new YaraSyntaxError('SIG_YARA_SYNTAX', 'unterminated hex string', pos);
    const tokens = parseYaraHex(s.slice(pos + 1, end), pos + 1);
    lx.pos = end + 1;
    const mods = readModifiers(lx, ['private']);
    return { ...base, kind: 'hex', variants: [tokens], wideVariants: [false], private: mods.has('private') };
  }
  if (c === '/') {
    let i = pos + 1;
    while (i < s.length && s[i] !== '/' && s[i] !== '\n') i += s[i] === '\\' ? 2 : 1;
    if (s[i] !== '/') throw new YaraSyntaxError('SIG_YARA_SYNTAX', 'unterminated regular expression', pos);
    const body = s.slice(pos + 1, i);
    i++;
    let flags = '';
    while (s[i] === 'i' || s[i] === 's') flags += s[i++];
    lx.pos = i;
    const mods = readModifiers(lx, ['nocase', 'wide', 'ascii', 'fullword', 'private']);
    if (mods.has('wide')) return { unsupported: 'the "wide" modifier on regular expressions is not supported', pos: mods.get('wide')! };
    const re = translateYaraRegex(body, flags.includes('i') || mods.has('nocase'), flags.includes('s'));
    if (typeof re === 'string') throw new YaraSyntaxError('SIG_YARA_REGEX_INVALID', re, pos);
    return { ...base, kind: 'regex', variants: [], wideVariants: [], regex: re, fullword: mods.has('fullword'), private: mods.has('private') };
  }
  throw new YaraSyntaxError('SIG_YARA_SYNTAX', 'expected a text, hex or regex string', pos);
}

function spellingsOf(mods: Map<string, number>): boolean[] {
  const wide = mods.has('wide');
  const ascii = mods.has('ascii') || !wide;
  return [...(ascii ? [false] : []), ...(wide ? [true] : [])];
}

function readModifiers(lx: Lexer, allowed: string[]): Map<string, number> {
  const mods = new Map<string, number>();
  for (;;) {
    const t = lx.peek();
    if (t.k !== 'id' || !allowed.includes(t.v)) {
      if (t.k === 'id' && ['nocase', 'wide', 'ascii', 'fullword', 'private', 'xor', 'base64', 'base64wide'].includes(t.v)) {
        throw new YaraSyntaxError('SIG_YARA_SYNTAX', `modifier "${t.v}" is not allowed here`, t.pos);
      }
      return mods;
    }
    lx.next();
    if (mods.has(t.v)) throw new YaraSyntaxError('SIG_YARA_SYNTAX', `duplicated modifier "${t.v}"`, t.pos);
    mods.set(t.v, t.pos);
    // xor/base64 take optional arguments; skip them so the diagnostic points at the modifier.
    if ((t.v === 'xor' || t.v.startsWith('base64')) && lx.peek().v === '(') {
      let depth = 0;
      do {
        const x = lx.next();
        if (x.v === '(') depth++;
        if (x.v === ')') depth--;
        if (x.k === 'eof') break;
      } while (depth > 0);
    }
  }
}

/** YARA hex strings: bytes, `??`, nibbles, `~XX`, jumps `[n]` `[n-m]` `[n-]` `[-]`, `( a | b )`. */
export function parseYaraHex(text: string, basePos: number): PatternToken[] {
  let i = 0;
  const err = (m: string): never => {
    throw new YaraSyntaxError('SIG_YARA_HEX_INVALID', m, basePos + i);
  };
  const skipWs = () => {
    for (;;) {
      while (i < text.length && /\s/.test(text[i]!)) i++;
      if (text.startsWith('//', i)) {
        while (i < text.length && text[i] !== '\n') i++;
      } else if (text.startsWith('/*', i)) {
        const e = text.indexOf('*/', i);
        if (e < 0) err('unterminated comment');
        i = e + 2;
      } else return;
    }
  };
  const seq = (inAlt: boolean): PatternToken[] => {
    const out: PatternToken[] = [];
    for (;;) {
      skipWs();
      if (i >= text.length) break;
      const c = text[i]!;
      if (inAlt && (c === '|' || c === ')')) break;
      if (c === '[') {
        const m = /^\[\s*(\d*)\s*(?:(-)\s*(\d*)\s*)?\]/.exec(text.slice(i));
        if (!m) err('bad jump');
        i += m![0].length;
        const lo = m![1] ? Number(m![1]) : 0;
        const hi = m![2] ? (m![3] ? Number(m![3]) : Number.POSITIVE_INFINITY) : m![1] ? lo : err('empty jump');
        if ((hi as number) < lo) err('jump range is inverted');
        if (out.length === 0) err('a hex string cannot start with a jump');
        out.push({ t: 'gap', min: lo, max: hi as number });
        continue;
      }
      if (c === '(') {
        i++;
        const options: PatternToken[][] = [];
        for (;;) {
          const o = seq(true);
          if (o.length === 0) err('empty alternative');
          options.push(o);
          skipWs();
          if (text[i] === '|') {
            i++;
            continue;
          }
          if (text[i] === ')') {
            i++;
            break;
          }
          err('unclosed "("');
        }
        out.push({ t: 'alt', options, negate: false });
        continue;
      }
      let negate = false;
      if (c === '~') {
        negate = true;
        i++;
      }
      const pair = text.slice(i, i + 2);
      const m = /^([0-9a-fA-F?])([0-9a-fA-F?])$/.exec(pair);
      if (!m) err(`bad hex byte "${pair}"`);
      i += 2;
      const hi = m![1] === '?' ? -1 : parseInt(m![1]!, 16);
      const lo = m![2] === '?' ? -1 : parseInt(m![2]!, 16);
      const value = (hi < 0 ? 0 : hi << 4) | (lo < 0 ? 0 : lo);
      const mask = (hi < 0 ? 0 : 0xf0) | (lo < 0 ? 0 : 0x0f);
      const tok: PatternToken = mask === 0xff ? { t: 'lit', bytes: Uint8Array.of(value), fold: false } : { t: 'mask', value, mask };
      if (negate) {
        if (mask === 0) err('"~??" is not allowed');
        out.push({ t: 'alt', options: [[tok]], negate: true });
      } else out.push(tok);
    }
    return out;
  };
  const tokens = seq(false);
  if (i < text.length) err(`unexpected "${text[i]}"`);
  if (tokens.length === 0) err('empty hex string');
  if (tokens[tokens.length - 1]!.t === 'gap') err('a hex string cannot end with a jump');
  return mergeLiterals(tokens);
}

/** Precedence-climbing parser of YARA conditions. */
class CondParser {
  used = new Set<string>();
  /** Every reference, and the `$a at <constant>` ones: YARA only looks for such strings at that offset. */
  refs: string[] = [];
  fixedAt: [string, number][] = [];
  otherUse = new Set<string>();
  unsupported: { message: string; pos: number } | undefined;
  private loopVars: string[] = [];
  private inForOf = 0;

  constructor(
    private readonly lx: Lexer,
    private readonly strings: YaraString[],
    private readonly rules: Set<string>,
  ) {}

  private fail(m: string, pos: number): never {
    throw new YaraSyntaxError('SIG_YARA_SYNTAX', m, pos);
  }

  private isOp(v: string): boolean {
    const t = this.lx.peek();
    return t.k === 'op' && t.v === v;
  }

  private isKw(v: string): boolean {
    const t = this.lx.peek();
    return t.k === 'id' && t.v === v;
  }

  parseExpr(): YaraExpr {
    return this.parseOr();
  }

  private parseOr(): YaraExpr {
    let l = this.parseAnd();
    while (this.isKw('or')) {
      this.lx.next();
      l = { t: 'bin', op: 'or', l, r: this.parseAnd() };
    }
    return l;
  }

  private parseAnd(): YaraExpr {
    let l = this.parseNot();
    while (this.isKw('and')) {
      this.lx.next();
      l = { t: 'bin', op: 'and', l, r: this.parseNot() };
    }
    return l;
  }

  private parseNot(): YaraExpr {
    if (this.isKw('not')) {
      this.lx.next();
      return { t: 'un', op: 'not', arg: this.parseNot() };
    }
    if (this.isKw('defined')) {
      this.lx.next();
      return { t: 'un', op: 'defined', arg: this.parseNot() };
    }
    return this.parseRel();
  }

  private static readonly BIN_LEVELS: string[][] = [
    ['==', '!=', 'contains', 'icontains', 'startswith', 'istartswith', 'endswith', 'iendswith', 'iequals', 'matches'],
    ['<', '<=', '>', '>='],
    ['|'],
    ['^'],
    ['&'],
    ['<<', '>>'],
    ['+', '-'],
    ['*', '\\', '%'],
  ];

  private parseRel(): YaraExpr {
    return this.parseLevel(0);
  }

  private parseLevel(level: number): YaraExpr {
    if (level >= CondParser.BIN_LEVELS.length) return this.parseUnary();
    const ops = CondParser.BIN_LEVELS[level]!;
    let l = this.parseLevel(level + 1);
    for (;;) {
      const t = this.lx.peek();
      if (!((t.k === 'op' || t.k === 'id') && ops.includes(t.v))) return l;
      this.lx.next();
      if (t.k === 'id') {
        this.unsupported ??= { message: `string operator "${t.v}" needs module data, which is not supported`, pos: t.pos };
      }
      l = { t: 'bin', op: t.v, l, r: this.parseLevel(level + 1) };
    }
  }

  private parseUnary(): YaraExpr {
    if (this.isOp('-')) {
      this.lx.next();
      return { t: 'un', op: '-', arg: this.parseUnary() };
    }
    if (this.isOp('~')) {
      this.lx.next();
      return { t: 'un', op: '~', arg: this.parseUnary() };
    }
    return this.parsePrimary();
  }

  private range(): [YaraExpr, YaraExpr] {
    expectOp(this.lx, '(');
    const lo = this.parseLevel(2);
    expectOp(this.lx, '..');
    const hi = this.parseLevel(2);
    expectOp(this.lx, ')');
    return [lo, hi];
  }

  private stringRef(id: string, pos: number): string {
    if (id === '$') {
      if (this.inForOf === 0) this.fail('"$" is only valid inside "for ... of"', pos);
      return '$';
    }
    if (!this.strings.some((s) => s.id === id)) this.fail(`undefined string identifier "${id}"`, pos);
    this.used.add(id);
    this.refs.push(id);
    return id;
  }

  /** `them`, or `( $a, $b*, ... )`. */
  private stringSet(): string[] {
    const t = this.lx.next();
    if (t.k === 'id' && t.v === 'them') {
      for (const s of this.strings) {
        this.used.add(s.id);
        this.otherUse.add(s.id);
      }
      if (this.strings.length === 0) this.fail('"them" used in a rule without strings', t.pos);
      return this.strings.map((s) => s.id);
    }
    if (!(t.k === 'op' && t.v === '(')) this.fail('expected "them" or a string set', t.pos);
    const ids: string[] = [];
    for (;;) {
      const x = this.lx.next();
      if (x.k !== 'sid') this.fail('expected a string identifier', x.pos);
      if (x.v.endsWith('*')) {
        const prefix = x.v.slice(0, -1);
        const ms = this.strings.filter((s) => s.id.startsWith(prefix));
        if (ms.length === 0) this.fail(`no string matches "${x.v}"`, x.pos);
        for (const s of ms) {
          this.used.add(s.id);
          this.otherUse.add(s.id);
          ids.push(s.id);
        }
      } else {
        const id = this.stringRef(x.v, x.pos);
        this.otherUse.add(id);
        ids.push(id);
      }
      const sep = this.lx.next();
      if (sep.v === ')') break;
      if (sep.v !== ',') this.fail('expected "," or ")"', sep.pos);
    }
    return ids;
  }

  private quantifier(): YaraQuantifier | undefined {
    const t = this.lx.peek();
    if (t.k === 'id' && (t.v === 'any' || t.v === 'all' || t.v === 'none')) {
      this.lx.next();
      return { q: t.v };
    }
    return undefined;
  }

  private parsePrimary(): YaraExpr {
    const lx = this.lx;
    const t = lx.next();
    switch (t.k) {
      case 'num': {
        if (this.isOp('%')) {
          // `50% of them`
          const save = lx.pos;
          lx.next();
          if (this.isKw('of')) return this.ofTail({ q: 'percent', n: { t: 'int', v: t.v } });
          lx.pos = save;
        }
        if (this.isKw('of')) return this.ofTail({ q: 'n', n: { t: 'int', v: t.v } });
        return { t: 'int', v: t.v };
      }
      case 'str':
        return { t: 'str', v: t.v };
      case 'sid': {
        const id = this.stringRef(t.v, t.pos);
        if (this.isKw('at')) {
          lx.next();
          const at = this.parseLevel(2);
          if (at.t === 'int') this.fixedAt.push([id, at.v]);
          else this.otherUse.add(id);
          return { t: 'match', id, at };
        }
        this.otherUse.add(id);
        if (this.isKw('in')) {
          lx.next();
          return { t: 'match', id, range: this.range() };
        }
        return { t: 'match', id };
      }
      case 'cnt': {
        const id = t.v === '$' ? this.stringRef('$', t.pos) : this.stringRef(t.v, t.pos);
        if (this.isKw('in')) {
          lx.next();
          return { t: 'count', id, range: this.range() };
        }
        return { t: 'count', id };
      }
      case 'off':
      case 'len': {
        const id = this.stringRef(t.v, t.pos);
        let index: YaraExpr = { t: 'int', v: 1 };
        if (this.isOp('[')) {
          lx.next();
          index = this.parseExpr();
          expectOp(lx, ']');
        }
        return { t: t.k === 'off' ? 'offset' : 'length', id, index };
      }
      case 'op':
        if (t.v === '(') {
          const e = this.parseExpr();
          expectOp(lx, ')');
          if (this.isKw('of')) return this.ofTail({ q: 'n', n: e });
          return e;
        }
        return this.fail(`unexpected "${t.v}"`, t.pos);
      case 'id': {
        if (t.v === 'true' || t.v === 'false') return { t: 'bool', v: t.v === 'true' };
        if (t.v === 'filesize') return { t: 'filesize' };
        if (t.v === 'them') return this.fail('"them" needs a quantifier ("any of them")', t.pos);
        if (t.v === 'any' || t.v === 'all' || t.v === 'none') {
          const q = { q: t.v } as YaraQuantifier;
          return this.ofTail(q);
        }
        if (t.v === 'for') return this.forTail();
        if (KEYWORDS_FN.has(t.v)) {
          expectOp(lx, '(');
          const arg = this.parseExpr();
          expectOp(lx, ')');
          return { t: 'read', fn: t.v, arg };
        }
        if (this.loopVars.includes(t.v)) return { t: 'var', name: t.v };
        if (t.v === 'entrypoint' || t.v.includes('.')) {
          this.unsupported ??= { message: `"${t.v}" needs a YARA module, which is not supported`, pos: t.pos };
          // Skip a call's arguments or an index so parsing can continue.
          this.skipPostfix();
          return { t: 'bool', v: false };
        }
        if (this.rules.has(t.v)) return { t: 'rule', name: t.v };
        return this.fail(`undefined identifier "${t.v}"`, t.pos);
      }
      default:
        return this.fail(`unexpected "${t.v || 'end of file'}"`, t.pos);
    }
  }

  private skipPostfix(): void {
    while (this.isOp('(') || this.isOp('[')) {
      const open = this.lx.next().v;
      const close = open === '(' ? ')' : ']';
      let depth = 1;
      while (depth > 0) {
        const x = this.lx.next();
        if (x.k === 'eof') return;
        if (x.v === open) depth++;
        if (x.v === close) depth--;
      }
    }
  }

  private ofTail(quant: YaraQuantifier): YaraExpr {
    const ofTok = this.lx.next();
    if (!(ofTok.k === 'id' && ofTok.v === 'of')) this.fail('expected "of"', ofTok.pos);
    // `any of (rule1, rule2)` sets of rules
    const p = this.lx.peek();
    if (p.k === 'op' && p.v === '(') {
      const save = this.lx.pos;
      this.lx.next();
      const first = this.lx.peek();
      if (first.k === 'id') {
        const rules: string[] = [];
        for (;;) {
          const x = this.lx.next();
          if (x.k !== 'id') this.fail('expected a rule name', x.pos);
          if (!this.rules.has(x.v)) this.fail(`undefined rule "${x.v}"`, x.pos);
          rules.push(x.v);
          const sep = this.lx.next();
          if (sep.v === ')') break;
          if (sep.v !== ',') this.fail('expected "," or ")"', sep.pos);
        }
        return { t: 'ruleof', quant, rules };
      }
      this.lx.pos = save;
    }
    const ids = this.stringSet();
    if (this.isKw('at')) {
      this.lx.next();
      return { t: 'of', quant, ids, at: this.parseLevel(2) };
    }
    if (this.isKw('in')) {
      this.lx.next();
      return { t: 'of', quant, ids, range: this.range() };
    }
    return { t: 'of', quant, ids };
  }

  private forTail(): YaraExpr {
    let quant = this.quantifier();
    if (!quant) {
      const n = this.parseLevel(2);
      if (this.isOp('%')) {
        this.lx.next();
        quant = { q: 'percent', n };
      } else quant = { q: 'n', n };
    }
    if (this.isKw('of')) {
      this.lx.next();
      const ids = this.stringSet();
      expectOp(this.lx, ':');
      expectOp(this.lx, '(');
      this.inForOf++;
      const body = this.parseExpr();
      this.inForOf--;
      expectOp(this.lx, ')');
      return { t: 'forof', quant, ids, body };
    }
    const vars: string[] = [];
    for (;;) {
      const v = this.lx.next();
      if (v.k !== 'id') this.fail('expected a loop variable', v.pos);
      vars.push(v.v);
      if (!this.isOp(',')) break;
      this.lx.next();
    }
    const inTok = this.lx.next();
    if (!(inTok.k === 'id' && inTok.v === 'in')) this.fail('expected "in"', inTok.pos);
    if (vars.length !== 1) this.fail('only one loop variable is supported (no module dictionaries)', inTok.pos);
    expectOp(this.lx, '(');
    const first = this.parseLevel(2);
    let iter: Extract<YaraExpr, { t: 'forin' }>['iter'];
    if (this.isOp('..')) {
      this.lx.next();
      iter = { range: [first, this.parseLevel(2)] };
    } else {
      const list = [first];
      while (this.isOp(',')) {
        this.lx.next();
        list.push(this.parseLevel(2));
      }
      iter = { list };
    }
    expectOp(this.lx, ')');
    expectOp(this.lx, ':');
    expectOp(this.lx, '(');
    this.loopVars.push(...vars);
    const body = this.parseExpr();
    this.loopVars.splice(this.loopVars.length - vars.length);
    expectOp(this.lx, ')');
    return { t: 'forin', quant, vars, iter, body };
  }
}
