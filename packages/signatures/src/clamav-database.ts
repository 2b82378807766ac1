import type { Diagnostic } from '@palisade/diagnostics';
import type { PatternToken } from './byte-pattern.ts';
import { parseClamavHex } from './clamav-hex.ts';

export type HashAlgorithm = 'md5' | 'sha1' | 'sha256';

export interface HashSignature {
  name: string;
  algorithm: HashAlgorithm;
  /** Lower-case hex. */
  hash: string;
  /** Byte size of the file (or PE section); undefined for ClamAV's `*` (any size). */
  size: number | undefined;
  /** `file` for .hdb/.hsb/.fp/.sfp, `section` for .mdb/.msb (PE section hashes). */
  scope: 'file' | 'section';
  file: string;
  line: number;
}

/** ClamAV body-signature offset (`*`, `n`, `n,m`, `EOF-n`, `EP+n`, `Sx+n`, `SL+n`, `SEx`). */
export type ClamOffset =
  | { kind: 'any' }
  | { kind: 'abs' | 'eof' | 'ep' | 'last'; n: number; shift: number }
  | { kind: 'section'; index: number; n: number; shift: number }
  | { kind: 'section-whole'; index: number };

export interface BodySignature {
  name: string;
  target: number;
  offset: ClamOffset;
  /** One token list per spelling (ascii and/or wide). */
  variants: PatternToken[][];
  fullword: boolean;
  file: string;
  line: number;
}

export type LogicNode =
  | { op: 'sub'; index: number }
  | { op: 'and' | 'or'; args: LogicNode[] }
  | { op: 'count'; arg: LogicNode; cmp: '=' | '>' | '<'; n: number; distinct: number | undefined };

export interface LogicalSignature {
  name: string;
  target: number;
  fileSize: [number, number] | undefined;
  entryPoint: [number, number] | undefined;
  sections: [number, number] | undefined;
  expression: LogicNode;
  subsigs: Omit<BodySignature, 'name' | 'target' | 'file' | 'line'>[];
  file: string;
  line: number;
}

export interface ClamavDatabase {
  hashes: HashSignature[];
  sectionHashes: HashSignature[];
  allowHashes: HashSignature[];
  bodies: BodySignature[];
  logical: LogicalSignature[];
  /** Signature names listed in `.ign2`/`.ign` files: never reported. */
  ignored: Set<string>;
}

export interface DatabaseFile {
  /** File name; its extension selects the format. */
  name: string;
  text: string;
}

export function emptyClamavDatabase(): ClamavDatabase {
  return { hashes: [], sectionHashes: [], allowHashes: [], bodies: [], logical: [], ignored: new Set() };
}

export const CLAMAV_EXTENSIONS = ['hdb', 'hsb', 'mdb', 'msb', 'ndb', 'ldb', 'fp', 'sfp', 'ign', 'ign2'] as const;

/**
 * Parses ClamAV database files into `db`, returning one diagnostic per bad line. Lines with
 * problems are left out; whether the rest is used is the caller's decision (all-or-nothing).
 */
export function parseClamavFile(f: DatabaseFile, db: ClamavDatabase): Diagnostic[] {
  const ext = f.name.slice(f.name.lastIndexOf('.') + 1).toLowerCase();
  const diags: Diagnostic[] = [];
  const lines = f.text.split('\n');
  lines.forEach((raw, idx) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || line.startsWith('#')) return;
    const err = (code: string, message: string, column = 1): void => {
      diags.push({ code, message, severity: 'error', file: f.name, line: idx + 1, column });
    };
    const lineNo = idx + 1;
    switch (ext) {
      case 'hdb':
      case 'hsb':
      case 'fp':
      case 'sfp': {
        const h = parseHashLine(line, ext === 'hdb' || ext === 'fp' ? 'md5' : 'any', false, err);
        if (!h) return;
        const sig: HashSignature = { ...h, scope: 'file', file: f.name, line: lineNo };
        (ext === 'fp' || ext === 'sfp' ? db.allowHashes : db.hashes).push(sig);
        return;
      }
      case 'mdb':
      case 'msb': {
        const h = parseHashLine(line, ext === 'mdb' ? 'md5' : 'any', true, err);
        if (h) db.sectionHashes.push({ ...h, scope: 'section', file: f.name, line: lineNo });
        return;
      }
      case 'ndb': {
        const sig = parseNdbLine(line, err);
        if (sig) db.bodies.push({ ...sig, file: f.name, line: lineNo });
        return;
      }
      case 'ldb': {
        const sig = parseLdbLine(line, err);
        if (sig) db.logical.push({ ...sig, file: f.name, line: lineNo });
        return;
      }
      case 'ign':
      case 'ign2': {
        // .ign lines are `db:line:name`; .ign2 lines are just the name (optionally `:md5`).
        const parts = line.split(':');
        db.ignored.add(ext === 'ign' ? (parts[2] ?? parts[0]!) : parts[0]!);
        return;
      }
      default:
        err('SIG_CLAMAV_FORMAT_UNSUPPORTED', `database format ".${ext}" is not supported`);
    }
  });
  return dedupeFormat(diags);
}

/** One diagnostic per file for an unsupported format is enough. */
function dedupeFormat(d: Diagnostic[]): Diagnostic[] {
  const first = d.findIndex((x) => x.code === 'SIG_CLAMAV_FORMAT_UNSUPPORTED');
  return first < 0 ? d : d.filter((x, i) => x.code !== 'SIG_CLAMAV_FORMAT_UNSUPPORTED' || i === first);
}

type Err = (code: string, message: string, column?: number) => void;

const HASH_LEN: Record<number, HashAlgorithm> = { 32: 'md5', 40: 'sha1', 64: 'sha256' };

function parseHashLine(
  line: string,
  algo: 'md5' | 'any',
  sizeFirst: boolean,
  err: Err,
): Omit<HashSignature, 'scope' | 'file' | 'line'> | undefined {
  const parts = line.split(':');
  if (parts.length < 3) {
    err('SIG_CLAMAV_HASH_INVALID', 'expected HASH:SIZE:NAME');
    return undefined;
  }
  const [a, b, name] = parts as [string, string, string];
  const hash = (sizeFirst ? b : a).toLowerCase();
  const sizeText = sizeFirst ? a : b;
  const algorithm = HASH_LEN[hash.length];
  if (!/^[0-9a-f]+$/.test(hash) || !algorithm || (algo === 'md5' && algorithm !== 'md5')) {
    err('SIG_CLAMAV_HASH_INVALID', `"${hash}" is not a ${algo === 'md5' ? 'MD5' : 'MD5/SHA1/SHA256'} hash`, sizeFirst ? a.length + 2 : 1);
    return undefined;
  }
  let size: number | undefined;
  if (sizeText === '*') size = undefined;
  else if (/^\d+$/.test(sizeText)) size = Number(sizeText);
  else {
    err('SIG_CLAMAV_HASH_INVALID', `bad size "${sizeText}"`, sizeFirst ? 1 : a.length + 2);
    return undefined;
  }
  if (!name) {
    err('SIG_CLAMAV_HASH_INVALID', 'missing signature name');
    return undefined;
  }
  return { name, algorithm, hash, size };
}

function parseNdbLine(line: string, err: Err): Omit<BodySignature, 'file' | 'line'> | undefined {
  const parts = line.split(':');
  if (parts.length < 4) {
    err('SIG_CLAMAV_NDB_INVALID', 'expected Name:Target:Offset:HexSignature');
    return undefined;
  }
  const [name, targetText, offsetText, hex] = parts as [string, string, string, string];
  const col = (k: number) => parts.slice(0, k).join(':').length + (k > 0 ? 2 : 1);
  if (!name) {
    err('SIG_CLAMAV_NDB_INVALID', 'missing signature name');
    return undefined;
  }
  if (!/^\d+$/.test(targetText)) {
    err('SIG_CLAMAV_TARGET_INVALID', `bad target type "${targetText}"`, col(1));
    return undefined;
  }
  const offset = parseOffset(offsetText);
  if (typeof offset === 'string') {
    err('SIG_CLAMAV_OFFSET_INVALID', offset, col(2));
    return undefined;
  }
  const tokens = parseClamavHex(hex);
  if ('message' in tokens) {
    err('SIG_CLAMAV_HEX_INVALID', tokens.message, col(3) + tokens.index);
    return undefined;
  }
  return { name, target: Number(targetText), offset, variants: [tokens], fullword: false };
}

export function parseOffset(text: string): ClamOffset | string {
  if (text === '*') return { kind: 'any' };
  let m = /^(\d+)(?:,(\d+))?$/.exec(text);
  if (m) return { kind: 'abs', n: Number(m[1]), shift: Number(m[2] ?? 0) };
  m = /^EOF-(\d+)(?:,(\d+))?$/.exec(text);
  if (m) return { kind: 'eof', n: Number(m[1]), shift: Number(m[2] ?? 0) };
  m = /^EP([+-])(\d+)(?:,(\d+))?$/.exec(text);
  if (m) return { kind: 'ep', n: (m[1] === '-' ? -1 : 1) * Number(m[2]), shift: Number(m[3] ?? 0) };
  m = /^S(\d+)\+(\d+)(?:,(\d+))?$/.exec(text);
  if (m) return { kind: 'section', index: Number(m[1]), n: Number(m[2]), shift: Number(m[3] ?? 0) };
  m = /^SL\+(\d+)(?:,(\d+))?$/.exec(text);
  if (m) return { kind: 'last', n: Number(m[1]), shift: Number(m[2] ?? 0) };
  m = /^SE(\d+)$/.exec(text);
  if (m) return { kind: 'section-whole', index: Number(m[1]) };
  if (/^VI|^\$|^EOF\+/.test(text)) return `offset "${text}" is not supported`;
  return `bad offset "${text}"`;
}

function parseRange(v: string): [number, number] | undefined {
  const m = /^(\d+)(?:-(\d+))?$/.exec(v);
  if (!m) return undefined;
  const lo = Number(m[1]);
  return [lo, m[2] === undefined ? lo : Number(m[2])];
}

function parseLdbLine(line: string, err: Err): Omit<LogicalSignature, 'file' | 'line'> | undefined {
  const parts = line.split(';');
  if (parts.length < 4) {
    err('SIG_CLAMAV_LDB_INVALID', 'expected Name;TargetDescription;Expression;Subsig0[;...]');
    return undefined;
  }
  const [name, tdb, exprText, ...subTexts] = parts as [string, string, string, ...string[]];
  const col = (k: number) => parts.slice(0, k).join(';').length + (k > 0 ? 2 : 1);
  let target: number | undefined;
  let fileSize: [number, number] | undefined;
  let entryPoint: [number, number] | undefined;
  let sections: [number, number] | undefined;
  for (const kv of tdb.split(',')) {
    const [k, v = ''] = kv.split(':') as [string, string?];
    switch (k) {
      case 'Target':
        if (!/^\d+$/.test(v)) {
          err('SIG_CLAMAV_TARGET_INVALID', `bad target "${v}"`, col(1));
          return undefined;
        }
        target = Number(v);
        break;
      case 'Engine':
        break;
      case 'FileSize':
      case 'EntryPoint':
      case 'NumberOfSections': {
        const r = parseRange(v);
        if (!r) {
          err('SIG_CLAMAV_LDB_INVALID', `bad range "${v}" for ${k}`, col(1));
          return undefined;
        }
        if (k === 'FileSize') fileSize = r;
        else if (k === 'EntryPoint') entryPoint = r;
        else sections = r;
        break;
      }
      default:
        err('SIG_CLAMAV_LDB_UNSUPPORTED', `target description keyword "${k}" is not supported`, col(1));
        return undefined;
    }
  }
  if (target === undefined) {
    err('SIG_CLAMAV_LDB_INVALID', 'target description block needs Target:N', col(1));
    return undefined;
  }
  const expr = parseLogic(exprText);
  if (typeof expr === 'string') {
    err('SIG_CLAMAV_LOGIC_INVALID', expr, col(2));
    return undefined;
  }
  const maxIndex = maxSub(expr);
  // ClamAV refuses both directions: a missing subsignature and one the expression never uses.
  if (maxIndex + 1 !== subTexts.length) {
    err('SIG_CLAMAV_LOGIC_INVALID', `expression uses subsignatures 0..${maxIndex} but ${subTexts.length} are given`, col(2));
    return undefined;
  }
  const subsigs: LogicalSignature['subsigs'] = [];
  for (let k = 0; k < subTexts.length; k++) {
    const sub = parseSubsig(subTexts[k]!);
    if (typeof sub === 'string') {
      err('SIG_CLAMAV_SUBSIG_INVALID', `subsignature ${k}: ${sub}`, col(3 + k));
      return undefined;
    }
    subsigs.push(sub);
  }
  return { name, target, fileSize, entryPoint, sections, expression: expr, subsigs };
}

function parseSubsig(text: string): LogicalSignature['subsigs'][number] | string {
  if (/^\d+\/|^\/|^[^:]*\/.*\/[a-z]*$/.test(text) && !/^[0-9a-fA-F?*{}()|!\[\]-]+$/.test(text)) {
    return 'PCRE subsignatures are not supported';
  }
  let body = text;
  let mods = '';
  const dm = text.indexOf('::');
  if (dm >= 0) {
    body = text.slice(0, dm);
    mods = text.slice(dm + 2);
  }
  let offset: ClamOffset = { kind: 'any' };
  const colon = body.indexOf(':');
  if (colon >= 0) {
    const o = parseOffset(body.slice(0, colon));
    if (typeof o === 'string') return o;
    offset = o;
    body = body.slice(colon + 1);
  }
  if (/[^iwfa]/.test(mods)) return `unknown modifier in "::${mods}"`;
  const nocase = mods.includes('i');
  const wide = mods.includes('w');
  const ascii = mods.includes('a') || !wide;
  const variants: PatternToken[][] = [];
  for (const w of ascii && wide ? [false, true] : [wide]) {
    const t = parseClamavHex(body, { nocase, wide: w });
    if ('message' in t) return t.message;
    variants.push(t);
  }
  return { offset, variants, fullword: mods.includes('f') };
}

function maxSub(n: LogicNode): number {
  if (n.op === 'sub') return n.index;
  if (n.op === 'count') return maxSub(n.arg);
  return Math.max(...n.args.map(maxSub));
}

/** Parses `(0&1)|2>3,2`-style expressions; `&` binds tighter than `|`. */
export function parseLogic(text: string): LogicNode | string {
  let i = 0;
  const peek = () => text[i];
  const parseOr = (): LogicNode | string => {
    const args: LogicNode[] = [];
    for (;;) {
      const a = parseAnd();
      if (typeof a === 'string') return a;
      args.push(a);
      if (peek() !== '|') break;
      i++;
    }
    return args.length === 1 ? args[0]! : { op: 'or', args };
  };
  const parseAnd = (): LogicNode | string => {
    const args: LogicNode[] = [];
    for (;;) {
      const a = parsePostfix();
      if (typeof a === 'string') return a;
      args.push(a);
      if (peek() !== '&') break;
      i++;
    }
    return args.length === 1 ? args[0]! : { op: 'and', args };
  };
  const num = (): number | undefined => {
    const m = /^\d+/.exec(text.slice(i));
    if (!m) return undefined;
    i += m[0].length;
    return Number(m[0]);
  };
  const parsePostfix = (): LogicNode | string => {
    let node: LogicNode;
    if (peek() === '(') {
      i++;
      const inner = parseOr();
      if (typeof inner === 'string') return inner;
      if (peek() !== ')') return `expected ")" at ${i + 1}`;
      i++;
      node = inner;
    } else {
      const n = num();
      if (n === undefined) return `expected a subsignature index at ${i + 1}`;
      node = { op: 'sub', index: n };
    }
    const c = peek();
    if (c === '=' || c === '>' || c === '<') {
      i++;
      const n = num();
      if (n === undefined) return `expected a count after "${c}"`;
      let distinct: number | undefined;
      if (peek() === ',') {
        i++;
        distinct = num();
        if (distinct === undefined) return 'expected a number after ","';
      }
      node = { op: 'count', arg: node, cmp: c, n, distinct };
    }
    return node;
  };
  const r = parseOr();
  if (typeof r === 'string') return r;
  if (i !== text.length) return `unexpected "${text[i]}" at ${i + 1}`;
  return r;
}
