import { compileOsMatch, execOsMatch, type OsMatch, testOsMatch } from './os-match.ts';
import { compileOsRegex, execOsRegex, type OsRegex, testOsRegex } from './os-regex.ts';
import { type LiteralPrefilter, passesPrefilter, requiredLiteral } from './literal-prefilter.ts';
import { compilePcre2, type Pcre2 } from './pcre2.ts';
import { jsRegexStartChars, osMatchStartChars, osRegexStartChars, type StartChars } from './start-chars.ts';

export type ExpressionType = 'osmatch' | 'osregex' | 'pcre2' | 'string';

/** A compiled `<match>`/`<regex>`/`<field>`-style pattern with its `type` and `negate` options. */
export class Expression {
  /** A literal every match contains, checked before running the regex. */
  private readonly prefilter: LiteralPrefilter | undefined;
  /**
   * The characters a match can start the text with, when every alternative is anchored at the
   * start (see start-chars.ts); undefined when a match may start with anything. It describes the
   * pattern itself: `negate` is not applied.
   */
  readonly startChars: StartChars | undefined;

  private constructor(
    readonly type: ExpressionType,
    readonly pattern: string,
    readonly negate: boolean,
    private readonly osmatch: OsMatch | null,
    private readonly osregex: OsRegex | null,
    private readonly pcre: Pcre2 | null,
  ) {
    // os_regex carries its own, stronger literal filter (every plain character is mandatory).
    const re = pcre?.engine === 'js' ? pcre.re : undefined;
    if (re) this.prefilter = requiredLiteral(re.source, re.flags.includes('i'));
    if (osmatch) this.startChars = osMatchStartChars(osmatch.alternatives);
    else if (osregex) this.startChars = osRegexStartChars(pattern);
    else if (re) this.startChars = jsRegexStartChars(re.source, re.flags);
  }

  static compile(type: ExpressionType, pattern: string, negate = false): Expression | string {
    // os_match takes a leading `!` as its own negation, on top of the negate attribute.
    if (type === 'osmatch') {
      const bang = pattern.startsWith('!');
      const p = bang ? pattern.slice(1) : pattern;
      return new Expression(type, pattern, negate !== bang, compileOsMatch(p), null, null);
    }
    // analysisd compares <action> as a plain string unless a type is given.
    if (type === 'string') return new Expression(type, pattern, negate, null, null, null);
    if (type === 'osregex') {
      const r = compileOsRegex(pattern);
      return typeof r === 'string' ? r : new Expression(type, pattern, negate, null, r, null);
    }
    const r = compilePcre2(pattern);
    return typeof r === 'string' ? r : new Expression(type, pattern, negate, null, null, r);
  }

  /** Whether the expression accepts `s`, negation applied. */
  test(s: string): boolean {
    let ok: boolean;
    if (this.type === 'string') ok = s === this.pattern;
    else if (this.osmatch) ok = testOsMatch(this.osmatch, s);
    else if (!passesPrefilter(this.prefilter, s)) ok = false;
    else if (this.osregex) ok = testOsRegex(this.osregex, s);
    else ok = this.pcre!.re.test(s);
    return ok !== this.negate;
  }

  /**
   * The lower-cased values this expression accepts when it is an exact, whole-value comparison
   * (`^value$` in os_regex or os_match, alternatives allowed, no negation); undefined otherwise.
   * Used to index sibling rules by a field's value.
   */
  exactValues(): string[] | undefined {
    if (this.negate) return undefined;
    if (this.osmatch) {
      const out: string[] = [];
      for (const a of this.osmatch.alternatives) {
        if (!a.start || !a.end) return undefined;
        out.push(a.text);
      }
      return out;
    }
    if (this.osregex) {
      const out: string[] = [];
      for (const alt of this.pattern.split('|')) {
        const m = /^\^([A-Za-z0-9_\-.:@/ ]*)\$$/.exec(alt);
        // `.` is a literal in os_regex; other characters could be classes or escapes.
        if (!m) return undefined;
        out.push(m[1]!.toLowerCase());
      }
      return out;
    }
    return undefined;
  }

  /** Captures and end offset (negation ignored: decoders never negate). */
  exec(s: string): { captures: string[]; end: number } | null {
    if (!passesPrefilter(this.prefilter, s)) return null;
    if (this.osregex) return execOsRegex(this.osregex, s);
    if (this.pcre) {
      const m = this.pcre.re.exec(s);
      if (!m) return null;
      const captures: string[] = [];
      for (let k = 1; k < m.length; k++) captures.push(m[k] ?? '');
      return { captures, end: m.index + m[0].length };
    }
    if (this.type === 'string') return s === this.pattern ? { captures: [], end: s.length } : null;
    const end = execOsMatch(this.osmatch!, s);
    return end >= 0 ? { captures: [], end } : null;
  }
}

export function parseExpressionType(v: string | undefined, fallback: ExpressionType): ExpressionType | null {
  if (v === undefined || v === '') return fallback;
  const t = v.toLowerCase();
  return t === 'osmatch' || t === 'osregex' || t === 'pcre2' ? t : null;
}
