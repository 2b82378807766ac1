import type { YaraExpr, YaraQuantifier, YaraRule } from './yara-rule.ts';

/** Matches per YARA string, keyed `ruleIndex * 65536 + stringIndex`: start offset -> length. */
export type StringMatches = Map<number, Map<number, number>>;

/** YARA's undefined (reading past the end, `@a[9]` with fewer matches) is `undefined` here. */
type Value = number | boolean | string | undefined;

interface Frame {
  rule: number;
  vars: Map<string, number>;
  /** The string `$` stands for inside `for ... of`. */
  anon?: string;
}

/** Evaluates every rule in order and returns the ones that match and are not private. */
export function evaluateYaraRules(rules: YaraRule[], matches: StringMatches, buf: Uint8Array): YaraRule[] {
  const results = new Map<string, boolean>();
  const sorted = new Map<number, number[]>();
  const ev = new Evaluator(rules, matches, buf, results, sorted);
  // A false global rule silences every rule (YARA applies this per namespace; we have one).
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i]!;
    if (!r.global) continue;
    const ok = truthy(ev.eval(r.condition, { rule: i, vars: new Map() }));
    results.set(r.name, ok);
    if (!ok) return [];
  }
  const out: YaraRule[] = [];
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i]!;
    const ok = results.get(r.name) ?? truthy(ev.eval(r.condition, { rule: i, vars: new Map() }));
    results.set(r.name, ok);
    if (ok && !r.private) out.push(r);
  }
  return out;
}

function truthy(v: Value): boolean {
  if (v === undefined) return false;
  if (typeof v === 'string') return v.length > 0;
  return typeof v === 'number' ? v !== 0 : v;
}

class Evaluator {
  constructor(
    private readonly rules: YaraRule[],
    private readonly matches: StringMatches,
    private readonly buf: Uint8Array,
    private readonly results: Map<string, boolean>,
    private readonly sorted: Map<number, number[]>,
  ) {}

  private key(f: Frame, id: string): number {
    const sid = id === '$' ? f.anon! : id;
    const idx = this.rules[f.rule]!.strings.findIndex((s) => s.id === sid);
    return f.rule * 65536 + idx;
  }

  private starts(f: Frame, id: string): number[] {
    const k = this.key(f, id);
    let s = this.sorted.get(k);
    if (!s) {
      s = [...(this.matches.get(k)?.keys() ?? [])].sort((a, b) => a - b);
      this.sorted.set(k, s);
    }
    return s;
  }

  private num(e: YaraExpr, f: Frame): number | undefined {
    const v = this.eval(e, f);
    if (typeof v === 'boolean') return v ? 1 : 0;
    return typeof v === 'number' ? v : undefined;
  }

  private quantOk(q: YaraQuantifier, hits: number, total: number, f: Frame): boolean {
    switch (q.q) {
      case 'any':
        return hits > 0;
      case 'all':
        return hits === total;
      case 'none':
        return hits === 0;
      case 'n': {
        const n = this.num(q.n, f);
        return n !== undefined && hits >= n;
      }
      case 'percent': {
        const n = this.num(q.n, f);
        return n !== undefined && hits * 100 >= n * total;
      }
    }
  }

  eval(e: YaraExpr, f: Frame): Value {
    switch (e.t) {
      case 'bool':
      case 'int':
      case 'str':
        return e.v;
      case 'filesize':
        return this.buf.length;
      case 'var':
        return f.vars.get(e.name);
      case 'rule': {
        const cached = this.results.get(e.name);
        if (cached !== undefined) return cached;
        const idx = this.rules.findIndex((r) => r.name === e.name);
        const ok = truthy(this.eval(this.rules[idx]!.condition, { rule: idx, vars: new Map() }));
        this.results.set(e.name, ok);
        return ok;
      }
      case 'match': {
        const s = this.starts(f, e.id);
        if (e.at) {
          const at = this.num(e.at, f);
          return at !== undefined && this.matches.get(this.key(f, e.id))?.has(at) === true;
        }
        if (e.range) {
          const lo = this.num(e.range[0], f);
          const hi = this.num(e.range[1], f);
          if (lo === undefined || hi === undefined) return false;
          return s.some((x) => x >= lo && x <= hi);
        }
        return s.length > 0;
      }
      case 'count': {
        const s = this.starts(f, e.id);
        if (!e.range) return s.length;
        const lo = this.num(e.range[0], f);
        const hi = this.num(e.range[1], f);
        if (lo === undefined || hi === undefined) return undefined;
        return s.filter((x) => x >= lo && x <= hi).length;
      }
      case 'offset':
      case 'length': {
        const i = this.num(e.index, f);
        const s = this.starts(f, e.id);
        if (i === undefined || i < 1 || i > s.length) return undefined;
        const start = s[i - 1]!;
        return e.t === 'offset' ? start : this.matches.get(this.key(f, e.id))!.get(start);
      }
      case 'read':
        return this.read(e.fn, this.num(e.arg, f));
      case 'un': {
        if (e.op === 'defined') return this.eval(e.arg, f) !== undefined;
        const v = this.eval(e.arg, f);
        if (v === undefined) return undefined;
        if (e.op === 'not') return !truthy(v);
        const n = typeof v === 'boolean' ? (v ? 1 : 0) : Number(v);
        return e.op === '-' ? -n : Number(~BigInt.asIntN(64, BigInt(n)));
      }
      case 'bin':
        return this.binary(e, f);
      case 'of': {
        let hits = 0;
        for (const id of e.ids) {
          const s = this.starts(f, id);
          let ok: boolean;
          if (e.at) {
            const at = this.num(e.at, f);
            ok = at !== undefined && s.includes(at);
          } else if (e.range) {
            const lo = this.num(e.range[0], f);
            const hi = this.num(e.range[1], f);
            ok = lo !== undefined && hi !== undefined && s.some((x) => x >= lo && x <= hi);
          } else ok = s.length > 0;
          if (ok) hits++;
        }
        return this.quantOk(e.quant, hits, e.ids.length, f);
      }
      case 'ruleof': {
        const hits = e.rules.filter((r) => truthy(this.eval({ t: 'rule', name: r }, f))).length;
        return this.quantOk(e.quant, hits, e.rules.length, f);
      }
      case 'forof': {
        let hits = 0;
        for (const id of e.ids) {
          if (truthy(this.eval(e.body, { ...f, anon: id }))) hits++;
        }
        return this.quantOk(e.quant, hits, e.ids.length, f);
      }
      case 'forin': {
        let items: number[];
        if ('range' in e.iter) {
          const lo = this.num(e.iter.range[0], f);
          const hi = this.num(e.iter.range[1], f);
          if (lo === undefined || hi === undefined) return false;
          items = [];
          for (let i = lo; i <= hi && items.length < 1_000_000; i++) items.push(i);
        } else {
          items = e.iter.list.map((x) => this.num(x, f)).filter((x): x is number => x !== undefined);
        }
        let hits = 0;
        const name = e.vars[0]!;
        for (const it of items) {
          const vars = new Map(f.vars);
          vars.set(name, it);
          if (truthy(this.eval(e.body, { ...f, vars }))) hits++;
        }
        return this.quantOk(e.quant, hits, items.length, f);
      }
    }
  }

  private binary(e: Extract<YaraExpr, { t: 'bin' }>, f: Frame): Value {
    if (e.op === 'and') {
      return truthy(this.eval(e.l, f)) && truthy(this.eval(e.r, f));
    }
    if (e.op === 'or') return truthy(this.eval(e.l, f)) || truthy(this.eval(e.r, f));
    const l = this.eval(e.l, f);
    const r = this.eval(e.r, f);
    if (l === undefined || r === undefined) return undefined;
    if (typeof l === 'string' || typeof r === 'string') {
      if (e.op === '==') return l === r;
      if (e.op === '!=') return l !== r;
      return undefined;
    }
    const a = typeof l === 'boolean' ? (l ? 1 : 0) : l;
    const b = typeof r === 'boolean' ? (r ? 1 : 0) : r;
    switch (e.op) {
      case '==':
        return a === b;
      case '!=':
        return a !== b;
      case '<':
        return a < b;
      case '<=':
        return a <= b;
      case '>':
        return a > b;
      case '>=':
        return a >= b;
      case '+':
        return a + b;
      case '-':
        return a - b;
      case '*':
        return a * b;
      case '\\':
        return b === 0 ? undefined : Math.trunc(a / b);
      case '%':
        return b === 0 ? undefined : a % b;
      case '&':
        return Number(BigInt.asIntN(64, BigInt(a) & BigInt(b)));
      case '|':
        return Number(BigInt.asIntN(64, BigInt(a) | BigInt(b)));
      case '^':
        return Number(BigInt.asIntN(64, BigInt(a) ^ BigInt(b)));
      case '<<':
        return b >= 64 ? 0 : Number(BigInt.asIntN(64, BigInt(a) << BigInt(b)));
      case '>>':
        return b >= 64 ? 0 : Number(BigInt.asIntN(64, BigInt(a) >> BigInt(b)));
      default:
        return undefined;
    }
  }

  private read(fn: string, off: number | undefined): Value {
    if (off === undefined || off < 0) return undefined;
    const be = fn.endsWith('be');
    const signed = !fn.startsWith('u');
    const bits = Number(/\d+/.exec(fn)![0]);
    const n = bits / 8;
    if (off + n > this.buf.length) return undefined;
    let v = 0;
    for (let k = 0; k < n; k++) {
      const b = this.buf[off + (be ? k : n - 1 - k)]!;
      v = v * 256 + b;
    }
    if (signed && v >= 2 ** (bits - 1)) v -= 2 ** bits;
    return v;
  }
}
