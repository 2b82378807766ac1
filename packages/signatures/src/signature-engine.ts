import { AnchorIndex } from './anchor-index.ts';
import { BytePattern } from './byte-pattern.ts';
import type {
  BodySignature,
  ClamavDatabase,
  ClamOffset,
  HashAlgorithm,
  HashSignature,
  LogicalSignature,
  LogicNode,
} from './clamav-database.ts';
import { type ExecutableInfo, parseExecutable } from './executable-info.ts';
import { CLAM_TARGET, clamTargetsOf, detectFileKind, type FileKind, normalizeText } from './file-type.ts';
import { evaluateYaraRules, type StringMatches } from './yara-evaluator.ts';
import type { YaraRule } from './yara-rule.ts';

export interface Detection {
  /** Signature or rule name, as its author wrote it. */
  name: string;
  source: 'clamav' | 'yara';
  /** hash, section-hash, body (.ndb), logical (.ldb) or yara. */
  kind: 'hash' | 'section-hash' | 'body' | 'logical' | 'yara';
  /** Where the signature came from (database file and line). */
  file?: string;
  line?: number;
  tags?: string[];
  /** YARA: the matches of the rule's non-private strings (first 100 per string). */
  strings?: { id: string; offset: number; length: number }[];
}

export interface ScanResult {
  kind: FileKind;
  detections: Detection[];
  /** Signatures whose verification budget ran out on this file (matches may be missing). */
  overBudget?: string[];
  /** True when an allow-list entry (.fp/.sfp) matched: the file is clean whatever else matched. */
  allowListed: boolean;
}

/** Digest of `data` in lower-case hex; supplied by the caller so that the engine stays pure. */
export type DigestFn = (algorithm: HashAlgorithm, data: Uint8Array) => string;

export interface ScanOptions {
  digest?: DigestFn;
  /** Digests of the whole file the caller already has (e.g. computed while reading). */
  digests?: Partial<Record<HashAlgorithm, string>>;
  /**
   * Also scan text files in ClamAV's normalized form (default true, as clamscan does; clamscan
   * skips it when HTML scanning is off, so the raw-only differential turns it off too).
   */
  normalizeText?: boolean;
}

/** A pattern in the automaton and who asked for it. */
interface PatternOwner {
  kind: 'ndb' | 'ldb' | 'yara';
  /** Index into bodies / logical / yara rules. */
  sig: number;
  /** Subsignature (ldb) or string (yara) index. */
  sub: number;
  fullword: boolean;
  /** YARA: the string's pattern is wide (fullword checks the neighbouring UTF-16 units). */
  wide: boolean;
  fixedOffset?: number;
}

interface Context {
  buf: Uint8Array;
  kind: FileKind;
  size: number;
  exec: ExecutableInfo | undefined | null;
}

const YARA_MAX_MATCHES = 1_000_000;
/**
 * Verification steps one pattern may spend on one file. Pathological signatures (short anchors
 * with wide gaps) on hostile files would otherwise make a scan quadratic; past the budget the
 * pattern is skipped for that file and the result says so.
 */
const PATTERN_FILE_BUDGET = 20_000_000;

/**
 * The compiled signature set: ClamAV hash, body and logical signatures plus YARA rules, all
 * body patterns in one multi-pattern index per scan mode (raw bytes; ClamAV's normalized text).
 */
export class SignatureEngine {
  private readonly hashBySize = new Map<number, HashSignature[]>();
  private readonly hashAnySize: HashSignature[] = [];
  private readonly allowBySize = new Map<number, HashSignature[]>();
  private readonly allowAnySize: HashSignature[] = [];
  private readonly sectionBySize = new Map<number, HashSignature[]>();
  private readonly raw = new AnchorIndex();
  private readonly normalized = new AnchorIndex();
  private readonly owners: PatternOwner[] = [];
  private readonly bodies: BodySignature[];
  private readonly logical: LogicalSignature[];
  private readonly ignored: Set<string>;
  private readonly yara: YaraRule[];
  /** Regex strings are searched directly (not through the anchor index): [rule, string]. */
  private readonly yaraRegexes: [number, number][] = [];
  private readonly hasText: boolean;
  private readonly ldbTrueWhenEmpty: number[] = [];
  /** Verification work per pattern in the current scan, and the patterns that ran out. */
  private spent = new Map<BytePattern, number>();
  private overBudget = new Set<BytePattern>();

  constructor(clamav: ClamavDatabase | undefined, yara: YaraRule[] = []) {
    const db = clamav ?? { hashes: [], sectionHashes: [], allowHashes: [], bodies: [], logical: [], ignored: new Set() };
    for (const h of db.hashes) addBySize(h, this.hashBySize, this.hashAnySize);
    for (const h of db.allowHashes) addBySize(h, this.allowBySize, this.allowAnySize);
    for (const h of db.sectionHashes) addBySize(h, this.sectionBySize, []);
    this.bodies = db.bodies;
    this.logical = db.logical;
    this.ignored = db.ignored;
    this.yara = yara;
    db.bodies.forEach((b, i) => {
      for (const v of b.variants) this.addPattern(v, { kind: 'ndb', sig: i, sub: 0, fullword: b.fullword, wide: false }, b.target);
    });
    db.logical.forEach((l, i) => {
      l.subsigs.forEach((s, k) => {
        for (const v of s.variants) this.addPattern(v, { kind: 'ldb', sig: i, sub: k, fullword: s.fullword, wide: false }, l.target);
      });
    });
    yara.forEach((r, i) => {
      r.strings.forEach((s, k) => {
        if (s.regex) {
          this.yaraRegexes.push([i, k]);
          return;
        }
        s.variants.forEach((v, vi) => {
          this.addPattern(v, { kind: 'yara', sig: i, sub: k, fullword: s.fullword, wide: s.wideVariants[vi] ?? false, fixedOffset: s.fixedOffset }, -1);
        });
      });
    });
    this.hasText = this.normalized.size > 0;
    db.logical.forEach((l, i) => {
      if (evalLogic(l.expression, () => 0).ok) this.ldbTrueWhenEmpty.push(i);
    });
  }

  private addPattern(tokens: BytePattern['tokens'], owner: PatternOwner, target: number): void {
    const id = this.owners.length;
    this.owners.push(owner);
    const p = new BytePattern(tokens);
    this.patternNames.set(p, this.ownerName(owner));
    // ClamAV scans text files twice: raw with every signature but the text-only ones, and
    // normalized with the generic and text ones.
    if (target !== CLAM_TARGET.text) this.raw.add(p, id);
    if (target === CLAM_TARGET.any || target === CLAM_TARGET.text) this.normalized.add(p, id);
  }

  private readonly patternNames = new Map<BytePattern, string>();

  private ownerName(o: PatternOwner): string {
    if (o.kind === 'ndb') return this.bodies[o.sig]!.name;
    if (o.kind === 'ldb') return `${this.logical[o.sig]!.name} (subsignature ${o.sub})`;
    const r = this.yara[o.sig]!;
    return `${r.name} ${r.strings[o.sub]!.id}`;
  }

  get patternCount(): number {
    return this.owners.length;
  }

  scan(buf: Uint8Array, opts: ScanOptions = {}): ScanResult {
    this.spent = new Map();
    this.overBudget = new Set();
    const kind = detectFileKind(buf);
    const ctx: Context = { buf, kind, size: buf.length, exec: null };
    const digests = new Map<HashAlgorithm, string>(Object.entries(opts.digests ?? {}) as [HashAlgorithm, string][]);
    const digestOf = (alg: HashAlgorithm): string | undefined => {
      let d = digests.get(alg);
      if (d === undefined && opts.digest) {
        d = opts.digest(alg, buf).toLowerCase();
        digests.set(alg, d);
      }
      return d;
    };
    const lookup = (bySize: Map<number, HashSignature[]>, any: HashSignature[]): HashSignature[] => {
      const cands = [...(bySize.get(buf.length) ?? []), ...any];
      return cands.filter((h) => digestOf(h.algorithm) === h.hash);
    };
    if (lookup(this.allowBySize, this.allowAnySize).length > 0) return { kind, detections: [], allowListed: true };

    const found = new Map<string, Detection>();
    const report = (d: Detection): void => {
      if (this.ignored.has(d.name)) return;
      const key = `${d.source}:${d.name}`;
      if (!found.has(key)) found.set(key, d);
    };
    for (const h of lookup(this.hashBySize, this.hashAnySize)) {
      report({ name: h.name, source: 'clamav', kind: 'hash', file: h.file, line: h.line });
    }
    if (kind === 'pe' && this.sectionBySize.size > 0 && opts.digest) {
      const exec = this.execInfo(ctx);
      for (const s of exec?.sections ?? []) {
        const cands = this.sectionBySize.get(s.size);
        if (!cands || s.offset + s.size > buf.length) continue;
        const data = buf.subarray(s.offset, s.offset + s.size);
        const cache = new Map<HashAlgorithm, string>();
        for (const h of cands) {
          let d = cache.get(h.algorithm);
          if (d === undefined) cache.set(h.algorithm, (d = opts.digest(h.algorithm, data).toLowerCase()));
          if (d === h.hash) report({ name: h.name, source: 'clamav', kind: 'section-hash', file: h.file, line: h.line });
        }
      }
    }

    const yaraMatches = this.scanBody(this.raw, ctx, clamTargetsOf(kind), report, true);
    if (kind === 'text' && this.hasText && opts.normalizeText !== false) {
      const norm = normalizeText(buf);
      const nctx: Context = { buf: norm, kind, size: norm.length, exec: undefined };
      this.scanBody(this.normalized, nctx, [CLAM_TARGET.text], report, false);
    }
    if (this.yara.length > 0) {
      this.scanYaraRegexes(ctx, yaraMatches);
      for (const r of evaluateYaraRules(this.yara, yaraMatches, buf)) {
        const ri = this.yara.indexOf(r);
        const strings: NonNullable<Detection['strings']> = [];
        r.strings.forEach((s, si) => {
          if (s.private) return;
          const m = yaraMatches.get(ri * 65536 + si);
          if (!m) return;
          const starts = [...m.keys()].sort((a, b) => a - b).slice(0, 100);
          for (const o of starts) strings.push({ id: s.id, offset: o, length: m.get(o)! });
        });
        report({ name: r.name, source: 'yara', kind: 'yara', file: r.file, line: r.line, tags: r.tags, strings });
      }
    }
    const result: ScanResult = { kind, detections: [...found.values()], allowListed: false };
    if (this.overBudget.size > 0) result.overBudget = [...this.overBudget].map((p) => this.patternNames.get(p) ?? '?');
    return result;
  }

  private execInfo(ctx: Context): ExecutableInfo | undefined {
    if (ctx.exec === null) {
      ctx.exec = ctx.kind === 'pe' || ctx.kind === 'elf' ? parseExecutable(ctx.buf, ctx.kind) : undefined;
    }
    return ctx.exec;
  }

  /** Runs one index over one buffer; returns YARA string matches (only collected when `withYara`). */
  private scanBody(
    index: AnchorIndex,
    ctx: Context,
    targets: number[],
    report: (d: Detection) => void,
    withYara: boolean,
  ): StringMatches {
    const yaraMatches: StringMatches = new Map();
    if (index.size === 0 && this.ldbTrueWhenEmpty.length === 0) return yaraMatches;
    const buf = ctx.buf;
    const targetOk = (t: number) => t === 0 || targets.includes(t);
    const ndbDone = new Set<number>();
    /** ldb sig -> per-subsig set of match starts. */
    const ldbHits = new Map<number, Map<number, Set<number>>>();
    index.scan(buf, (id, pattern, pos) => {
      const o = this.owners[id]!;
      if (o.kind === 'ndb') {
        if (ndbDone.has(o.sig)) return;
        const sig = this.bodies[o.sig]!;
        if (!targetOk(sig.target)) return;
        const range = this.offsetRange(sig.offset, ctx);
        if (!range) return;
        if (this.verify(pattern, buf, pos, (s, e) => inRange(range, s, e) && (!o.fullword || isWord(buf, s, e)))) {
          ndbDone.add(o.sig);
          report({ name: sig.name, source: 'clamav', kind: 'body', file: sig.file, line: sig.line });
        }
      } else if (o.kind === 'ldb') {
        const sig = this.logical[o.sig]!;
        if (!targetOk(sig.target)) return;
        const sub = sig.subsigs[o.sub]!;
        const range = this.offsetRange(sub.offset, ctx);
        if (!range) return;
        let subs = ldbHits.get(o.sig);
        if (!subs) ldbHits.set(o.sig, (subs = new Map()));
        let starts = subs.get(o.sub);
        if (!starts) subs.set(o.sub, (starts = new Set()));
        const st = starts;
        this.verify(pattern, buf, pos, (s, e) => {
          if (inRange(range, s, e) && (!o.fullword || isWord(buf, s, e))) st.add(s);
          return false;
        });
      } else if (withYara) {
        const key = o.sig * 65536 + o.sub;
        let list = yaraMatches.get(key);
        if (!list) yaraMatches.set(key, (list = new Map()));
        const l = list;
        if (l.size >= YARA_MAX_MATCHES) return;
        const fixed = o.fixedOffset;
        this.verify(pattern, buf, pos, (s, e) => {
          if (fixed !== undefined && s !== fixed) return false;
          if (o.fullword && !(o.wide ? isWideWord(buf, s, e) : isWord(buf, s, e))) return false;
          if (!l.has(s)) l.set(s, e - s);
          return false;
        });
      }
    });
    // Expressions such as `0<2` hold with no match at all, so they are checked on every file.
    for (const i of this.ldbTrueWhenEmpty) if (!ldbHits.has(i) && targetOk(this.logical[i]!.target)) ldbHits.set(i, new Map());
    for (const [sigIdx, subs] of ldbHits) {
      const sig = this.logical[sigIdx]!;
      if (sig.fileSize && (ctx.size < sig.fileSize[0] || ctx.size > sig.fileSize[1])) continue;
      if (sig.entryPoint || sig.sections) {
        const exec = this.execInfo(ctx);
        if (!exec) continue;
        if (sig.entryPoint && (exec.entryPoint === undefined || exec.entryPoint < sig.entryPoint[0] || exec.entryPoint > sig.entryPoint[1])) continue;
        if (sig.sections && (exec.sections.length < sig.sections[0] || exec.sections.length > sig.sections[1])) continue;
      }
      const counts = (k: number) => subs.get(k)?.size ?? 0;
      if (evalLogic(sig.expression, counts).ok) {
        report({ name: sig.name, source: 'clamav', kind: 'logical', file: sig.file, line: sig.line });
      }
    }
    return yaraMatches;
  }

  private verify(p: BytePattern, buf: Uint8Array, pos: number, accept: (s: number, e: number) => boolean): boolean {
    const spent = this.spent.get(p) ?? 0;
    if (spent > PATTERN_FILE_BUDGET) {
      this.overBudget.add(p);
      return false;
    }
    const ok = p.anchor ? p.matchAtAnchor(buf, pos, accept) : p.matchAt(buf, pos, accept);
    this.spent.set(p, spent + p.steps + 1);
    if (p.exhausted) this.overBudget.add(p);
    return ok;
  }

  private scanYaraRegexes(ctx: Context, out: StringMatches): void {
    if (this.yaraRegexes.length === 0) return;
    const text = latin1(ctx.buf);
    for (const [ri, si] of this.yaraRegexes) {
      const s = this.yara[ri]!.strings[si]!;
      const re = s.regex!;
      const list = new Map<number, number>();
      re.lastIndex = 0;
      for (let from = 0; from <= text.length && list.size < YARA_MAX_MATCHES; ) {
        re.lastIndex = from;
        const m = re.exec(text);
        if (!m) break;
        const start = m.index;
        const end = start + m[0].length;
        if ((!s.fullword || isWord(ctx.buf, start, end)) && (s.fixedOffset === undefined || s.fixedOffset === start)) list.set(start, m[0].length);
        from = start + 1;
      }
      if (list.size > 0) out.set(ri * 65536 + si, list);
    }
  }

  /** Allowed [min, max] start positions of a signature, or undefined if the offset cannot apply. */
  private offsetRange(o: ClamOffset, ctx: Context): OffsetRange | undefined {
    switch (o.kind) {
      case 'any':
        return { min: 0, max: Number.POSITIVE_INFINITY };
      case 'abs':
        return { min: o.n, max: o.n + o.shift };
      case 'eof':
        return ctx.size - o.n < 0 ? undefined : { min: ctx.size - o.n, max: ctx.size - o.n + o.shift };
      default: {
        // Normalized text has no executable structure.
        if (ctx.exec === undefined && ctx.kind === 'text') return undefined;
        const exec = this.execInfo(ctx);
        if (!exec) return undefined;
        if (o.kind === 'ep') return exec.entryPoint === undefined ? undefined : { min: exec.entryPoint + o.n, max: exec.entryPoint + o.n + o.shift };
        if (o.kind === 'last') {
          const s = exec.sections[exec.sections.length - 1];
          return s ? { min: s.offset + o.n, max: s.offset + o.n + o.shift } : undefined;
        }
        if (o.kind !== 'section' && o.kind !== 'section-whole') return undefined;
        const s = exec.sections[o.index];
        if (!s) return undefined;
        if (o.kind === 'section') return { min: s.offset + o.n, max: s.offset + o.n + o.shift };
        return { min: s.offset, max: s.offset + s.size, end: s.offset + s.size };
      }
    }
  }
}

interface OffsetRange {
  min: number;
  max: number;
  /** For whole-section offsets: the match must end inside too. */
  end?: number;
}

function inRange(r: OffsetRange, s: number, e: number): boolean {
  return s >= r.min && s <= r.max && (r.end === undefined || e <= r.end);
}

function addBySize(h: HashSignature, bySize: Map<number, HashSignature[]>, any: HashSignature[]): void {
  if (h.size === undefined) {
    any.push(h);
    return;
  }
  const l = bySize.get(h.size);
  if (l) l.push(h);
  else bySize.set(h.size, [h]);
}

function isAlnum(b: number | undefined): boolean {
  return b !== undefined && ((b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122));
}

function isWord(buf: Uint8Array, s: number, e: number): boolean {
  return !isAlnum(s > 0 ? buf[s - 1] : undefined) && !isAlnum(e < buf.length ? buf[e] : undefined);
}

function isWideWord(buf: Uint8Array, s: number, e: number): boolean {
  const before = s >= 2 && buf[s - 1] === 0 ? buf[s - 2] : undefined;
  const after = e + 1 < buf.length && buf[e + 1] === 0 ? buf[e] : undefined;
  return !isAlnum(before) && !isAlnum(after);
}

/** ClamAV logical expression: values are match counts; `&` needs every side, `|` any side. */
function evalLogic(n: LogicNode, counts: (k: number) => number): { ok: boolean; count: number; distinct: number } {
  switch (n.op) {
    case 'sub': {
      const c = counts(n.index);
      return { ok: c > 0, count: c, distinct: c > 0 ? 1 : 0 };
    }
    case 'and':
    case 'or': {
      const rs = n.args.map((a) => evalLogic(a, counts));
      const ok = n.op === 'and' ? rs.every((r) => r.ok) : rs.some((r) => r.ok);
      return { ok, count: rs.reduce((s, r) => s + r.count, 0), distinct: rs.reduce((s, r) => s + r.distinct, 0) };
    }
    case 'count': {
      const r = evalLogic(n.arg, counts);
      const c = r.count;
      let ok = n.cmp === '=' ? c === n.n : n.cmp === '>' ? c > n.n : c < n.n;
      if (ok && n.distinct !== undefined) ok = r.distinct >= n.distinct;
      return { ok, count: ok ? c : 0, distinct: ok ? r.distinct : 0 };
    }
  }
}

function latin1(buf: Uint8Array): string {
  let s = '';
  for (let i = 0; i < buf.length; i += 8192) {
    s += String.fromCharCode.apply(null, buf.subarray(i, i + 8192) as unknown as number[]);
  }
  return s;
}
