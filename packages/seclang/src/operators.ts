import { detectSqli, detectXss } from './libinjection/index.ts';
import { type CompiledRegex, nativeRegExp, type RegexCache, type RegexEngine } from './regex.ts';
import { lowercase } from './transformations.ts';

/** Result of one operator on one value: matched, and what `capture` copies into TX:0-9. */
export interface OperatorResult {
  matched: boolean;
  captures?: (string | undefined)[];
}

export interface Operator {
  name: string;
  /**
   * `expand` resolves %{…} macros in the parameter for operators whose parameter may hold one;
   * `capture` asks for the captures (only rules with the capture action need them, and
   * skipping them saves an allocation per evaluation).
   */
  evaluate(input: string, expand: (s: string) => string, capture?: boolean): OperatorResult;
}

export interface OperatorContext {
  regexes: RegexCache;
  engine: RegexEngine;
  /** Reads a data file for @pmFromFile/@ipMatchFromFile relative to the rule file; undefined if missing. */
  readDataFile(path: string): string | undefined;
}

const NO: OperatorResult = { matched: false };
const YES: OperatorResult = { matched: true };

/**
 * Case-insensitive Aho-Corasick over byte strings: @pm lists hold up to thousands of phrases.
 * The trie is built with maps, then flattened: the root and its children (where the scan spends
 * most of its steps) get full 256-entry transition rows, failure links already resolved; deeper
 * states keep their edges in contiguous typed arrays, so a step is an array read or a short
 * scan instead of a map lookup.
 */
export class PhraseMatcher {
  /** Row of each state in `dense` (-1 for states deeper than the root's children). */
  private readonly row: Int32Array;
  private readonly dense: Int32Array;
  private readonly edgeStart: Int32Array;
  private readonly edgeChar: Uint16Array;
  private readonly edgeNext: Int32Array;
  private readonly fail: Int32Array;
  private readonly out: (string | null)[];
  constructor(phrases: readonly string[]) {
    const goto: Map<number, number>[] = [new Map()];
    const fail: number[] = [0];
    const out: (string | null)[] = [null];
    for (const raw of phrases) {
      const p = lowercase(raw);
      if (p === '') continue;
      let s = 0;
      for (let i = 0; i < p.length; i++) {
        const c = p.charCodeAt(i);
        let nx = goto[s]!.get(c);
        if (nx === undefined) {
          nx = goto.length;
          goto.push(new Map());
          fail.push(0);
          out.push(null);
          goto[s]!.set(c, nx);
        }
        s = nx;
      }
      if (out[s] === null) out[s] = p;
    }
    const queue: number[] = [];
    for (const nx of goto[0]!.values()) queue.push(nx);
    for (let q = 0; q < queue.length; q++) {
      const r = queue[q]!;
      for (const [c, u] of goto[r]!) {
        queue.push(u);
        let f = fail[r]!;
        while (f !== 0 && !goto[f]!.has(c)) f = fail[f]!;
        const g = goto[f]!.get(c);
        fail[u] = g !== undefined && g !== u ? g : 0;
        if (out[u] === null && out[fail[u]!] !== null) out[u] = out[fail[u]!]!;
      }
    }
    // Flatten. Inputs and phrases are byte strings; a wider char (none in practice) takes the
    // edge scan below, which every state has.
    const n = goto.length;
    this.edgeStart = new Int32Array(n + 1);
    let edges = 0;
    for (let s = 0; s < n; s++) {
      this.edgeStart[s] = edges;
      edges += goto[s]!.size;
    }
    this.edgeStart[n] = edges;
    this.edgeChar = new Uint16Array(edges);
    this.edgeNext = new Int32Array(edges);
    for (let s = 0; s < n; s++) {
      let k = this.edgeStart[s]!;
      for (const [c, u] of goto[s]!) {
        this.edgeChar[k] = c;
        this.edgeNext[k] = u;
        k++;
      }
    }
    // Dense rows: the root (row 0) then each child of the root, whose failure link is the root.
    const top = [0, ...[...goto[0]!.values()]];
    this.row = new Int32Array(n).fill(-1);
    this.dense = new Int32Array(top.length * 256);
    for (let r = 0; r < top.length; r++) {
      const s = top[r]!;
      this.row[s] = r;
      for (let c = 0; c < 256; c++) this.dense[r * 256 + c] = goto[s]!.get(c) ?? (s === 0 ? 0 : (goto[0]!.get(c) ?? 0));
    }
    this.fail = Int32Array.from(fail);
    this.out = out;
  }
  /** First phrase found, or null. */
  find(input: string): string | null {
    const row = this.row;
    const dense = this.dense;
    const start = this.edgeStart;
    const chars = this.edgeChar;
    const next = this.edgeNext;
    const fail = this.fail;
    const out = this.out;
    let s = 0;
    for (let i = 0; i < input.length; i++) {
      let c = input.charCodeAt(i);
      if (c >= 65 && c <= 90) c += 32;
      for (;;) {
        const r = row[s]!;
        if (r >= 0 && c < 256) {
          s = dense[r * 256 + c]!;
          break;
        }
        let nx = 0;
        for (let k = start[s]!, end = start[s + 1]!; k < end; k++) {
          if (chars[k] === c) {
            nx = next[k]!;
            break;
          }
        }
        if (nx !== 0 || s === 0) {
          s = nx;
          break;
        }
        s = fail[s]!;
      }
      const o = out[s];
      if (o !== null) return o!;
    }
    return null;
  }
}

/** atoi(): leading integer, 0 when there is none (ModSecurity's numeric operators use it). */
function toInt(s: string): number {
  const n = Number.parseInt(s, 10);
  return Number.isNaN(n) ? 0 : n;
}

function parseIpv4(s: string): number[] | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const bytes = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : -1));
  return bytes.every((b) => b >= 0 && b <= 255) ? bytes : null;
}

function parseIpv6(s: string): number[] | null {
  if (!s.includes(':')) return null;
  let tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const b = parseIpv4(v4[1]!);
    if (!b) return null;
    tail = b;
    s = `${s.slice(0, -v4[1]!.length)}0:0`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const parse = (h: string) => (h === '' ? [] : h.split(':').map((g) => (/^[0-9a-fA-F]{1,4}$/.test(g) ? Number.parseInt(g, 16) : -1)));
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  if ([...head, ...rest].some((g) => g < 0)) return null;
  const fill = 8 - head.length - rest.length;
  if ((halves.length === 1 && fill !== 0) || fill < 0) return null;
  const groups = [...head, ...new Array(halves.length === 2 ? fill : 0).fill(0), ...rest];
  const bytes = groups.flatMap((g) => [g >> 8, g & 0xff]);
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes;
}

function parseIp(s: string): number[] | null {
  return parseIpv4(s) ?? parseIpv6(s);
}

export class IpMatcher {
  private readonly nets: { bytes: number[]; bits: number }[] = [];
  constructor(list: string[]) {
    for (const item of list) {
      const [addr, bitsRaw] = item.split('/');
      const bytes = parseIp(addr!.trim());
      if (!bytes) throw new Error(`invalid IP address ${item}`);
      const bits = bitsRaw === undefined ? bytes.length * 8 : Number(bitsRaw);
      if (!Number.isInteger(bits) || bits < 0 || bits > bytes.length * 8) throw new Error(`invalid prefix in ${item}`);
      this.nets.push({ bytes, bits });
    }
  }
  has(ip: string): boolean {
    const b = parseIp(ip.trim());
    if (!b) return false;
    return this.nets.some((n) => {
      if (n.bytes.length !== b.length) return false;
      let bits = n.bits;
      for (let i = 0; bits > 0; i++, bits -= 8) {
        const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
        if ((n.bytes[i]! & mask) !== (b[i]! & mask)) return false;
      }
      return true;
    });
  }
}

function validUtf8(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const b = s.charCodeAt(i);
    if (b < 0x80) continue;
    let need: number;
    let min: number;
    let cp: number;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
      cp = b & 0x1f;
    } else if ((b & 0xf0) === 0xe0) {
      need = 2;
      min = 0x800;
      cp = b & 0x0f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
      cp = b & 0x07;
    } else return false;
    if (i + need >= s.length) return false;
    for (let k = 1; k <= need; k++) {
      const nb = s.charCodeAt(i + k);
      if ((nb & 0xc0) !== 0x80) return false;
      cp = (cp << 6) | (nb & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += need;
  }
  return true;
}

function parseByteRanges(param: string): boolean[] {
  const allowed = new Array<boolean>(256).fill(false);
  for (const part of param.split(',')) {
    const t = part.trim();
    if (t === '') continue;
    const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(t);
    if (!m) throw new Error(`invalid byte range ${t}`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (lo > 255 || hi > 255 || lo > hi) throw new Error(`invalid byte range ${t}`);
    for (let b = lo; b <= hi; b++) allowed[b] = true;
  }
  return allowed;
}

function dataFileLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/\r$/, '').trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** Builds an operator; throws Error with a human message on a bad parameter. */
export function createOperator(name: string, param: string, ctx: OperatorContext): Operator {
  const hasMacro = param.includes('%{');
  const lname = name.toLowerCase();
  switch (lname) {
    case 'rx': {
      const re: CompiledRegex = ctx.regexes.compile(param, ctx.engine);
      // Most values are short and go straight to V8's RegExp: this runs ~1,700 times per CRS
      // request, mostly on values of a few bytes, where the wrappers' calls cost as much as the match.
      const native = nativeRegExp(re);
      const fast = native?.re;
      const maxFast = native?.maxInput ?? -1;
      return {
        name,
        evaluate(input, _expand, capture) {
          // test() first: most values do not match, and exec() allocates its result array.
          if (!(input.length <= maxFast ? fast!.test(input) : re.test(input))) return NO;
          if (!capture) return YES;
          const m = re.exec(input);
          return m ? { matched: true, captures: m.slice(0, 10) } : NO;
        },
      };
    }
    case 'pm':
    case 'pmf':
    case 'pmfromfile': {
      let phrases: string[];
      if (lname === 'pm') phrases = param.split(/\s+/).filter((p) => p !== '');
      else {
        phrases = [];
        for (const f of param.split(/\s+/).filter((p) => p !== '')) {
          const text = ctx.readDataFile(f);
          if (text === undefined) throw new Error(`cannot read data file ${f}`);
          phrases.push(...dataFileLines(text));
        }
      }
      const pm = new PhraseMatcher(phrases);
      return {
        name,
        evaluate(input) {
          const hit = pm.find(input);
          return hit === null ? NO : { matched: true, captures: [hit] };
        },
      };
    }
    case 'detectsqli':
      return {
        name,
        evaluate(input) {
          const r = detectSqli(input);
          return r.isSqli ? { matched: true, captures: [r.fingerprint] } : NO;
        },
      };
    case 'detectxss':
      return { name, evaluate: (input) => (detectXss(input) ? YES : NO) };
    case 'within':
      return {
        name,
        evaluate(input, expand) {
          const hay = hasMacro ? expand(param) : param;
          return input !== '' && hay.includes(input) ? { matched: true, captures: [input] } : NO;
        },
      };
    case 'contains':
      return { name, evaluate: (input, expand) => (input.includes(hasMacro ? expand(param) : param) ? { matched: true, captures: [input] } : NO) };
    case 'containsword': {
      return {
        name,
        evaluate(input, expand) {
          const w = hasMacro ? expand(param) : param;
          const re = new RegExp(`(?:^|\\W)${w.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')}(?:\\W|$)`);
          return re.test(input) ? YES : NO;
        },
      };
    }
    case 'streq':
      return { name, evaluate: (input, expand) => (input === (hasMacro ? expand(param) : param) ? { matched: true, captures: [input] } : NO) };
    case 'beginswith':
      return { name, evaluate: (input, expand) => (input.startsWith(hasMacro ? expand(param) : param) ? { matched: true, captures: [input] } : NO) };
    case 'endswith':
      return { name, evaluate: (input, expand) => (input.endsWith(hasMacro ? expand(param) : param) ? { matched: true, captures: [input] } : NO) };
    case 'eq':
    case 'ge':
    case 'gt':
    case 'lt':
    case 'le': {
      const fixed = hasMacro ? 0 : toInt(param);
      const cmp: Record<string, (a: number, b: number) => boolean> = {
        eq: (a, b) => a === b,
        ge: (a, b) => a >= b,
        gt: (a, b) => a > b,
        lt: (a, b) => a < b,
        le: (a, b) => a <= b,
      };
      const f = cmp[lname]!;
      return { name, evaluate: (input, expand) => (f(toInt(input), hasMacro ? toInt(expand(param)) : fixed) ? YES : NO) };
    }
    case 'ipmatch':
    case 'ipmatchfromfile':
    case 'ipmatchf': {
      let list: string[];
      if (lname === 'ipmatch') list = param.split(',').map((s) => s.trim()).filter((s) => s !== '');
      else {
        const text = ctx.readDataFile(param.trim());
        if (text === undefined) throw new Error(`cannot read data file ${param}`);
        list = dataFileLines(text);
      }
      const m = new IpMatcher(list);
      return { name, evaluate: (input) => (m.has(input) ? YES : NO) };
    }
    case 'validatebyterange': {
      const allowed = parseByteRanges(param);
      return {
        name,
        evaluate(input) {
          for (let i = 0; i < input.length; i++) if (!allowed[input.charCodeAt(i) & 0xff]) return YES;
          return NO;
        },
      };
    }
    case 'validateurlencoding':
      return {
        name,
        evaluate(input) {
          for (let i = 0; i < input.length; i++) {
            if (input[i] !== '%') continue;
            if (!/^[0-9a-fA-F]{2}$/.test(input.slice(i + 1, i + 3))) return YES;
            i += 2;
          }
          return NO;
        },
      };
    case 'validateutf8encoding':
      return { name, evaluate: (input) => (validUtf8(input) ? NO : YES) };
    case 'unconditionalmatch':
      return { name, evaluate: () => YES };
    case 'nomatch':
      return { name, evaluate: () => NO };
    default:
      throw new UnknownOperatorError(`unknown operator @${name}`);
  }
}

export class UnknownOperatorError extends Error {}
