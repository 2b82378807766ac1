import RE2 from 're2';

/**
 * PCRE2 patterns (`type="pcre2"`) run as JavaScript RegExps after a syntax translation. Patterns
 * whose shape can backtrack exponentially (a quantified group that itself contains a quantifier)
 * run on RE2 instead, which is linear in the input, so one bad rule cannot stall the engine; RE2
 * lacks look-around and back-references, so such patterns stay on the JS engine.
 */
export interface Pcre2 {
  readonly re: RegExp;
  readonly engine: 'js' | 're2';
}

const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)[+*{]/;
/** A quantified group with alternatives, `(a|aa)+`: the other exponential shape. */
const QUANTIFIED_ALTERNATION = /\((?:[^()\\]|\\.)*\|(?:[^()\\]|\\.)*\)[+*{]/;

export function translatePcre2(pattern: string): { source: string; flags: string } {
  let flags = '';
  let p = pattern;
  // Leading inline options apply to the whole pattern in practice; JS only takes them as flags.
  for (;;) {
    const m = /^\(\?([imsx]+)\)/.exec(p);
    if (!m) break;
    for (const f of m[1]!) if (f !== 'x' && !flags.includes(f)) flags += f;
    p = p.slice(m[0].length);
  }
  // Verb prefixes like (*UTF) only change PCRE2 start-up options.
  p = p.replace(/^(\(\*[A-Z_]+(?:=\d+)?\))+/, '');
  let out = '';
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\') {
      const e = p[i + 1] ?? '';
      i++;
      if (e === 'Q') {
        const end = p.indexOf('\\E', i + 1);
        const lit = p.slice(i + 1, end < 0 ? p.length : end);
        out += lit.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
        i = end < 0 ? p.length : end + 1;
        continue;
      }
      if ((e === 'N' || e === 'x') && p[i + 1] === '{') {
        const end = p.indexOf('}', i);
        const hex = p.slice(i + 2, end).replace(/^U\+/, '');
        const code = Number.parseInt(hex, 16);
        i = end;
        out +=
          code > 0xffff
            ? String.fromCodePoint(code).replace(/[\s\S]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)
            : `\\u${code.toString(16).padStart(4, '0')}`;
        continue;
      }
      if (!inClass && e === 'A') out += '^';
      else if (!inClass && (e === 'z' || e === 'Z')) out += '$';
      else if (e === 'h') out += inClass ? ' \\t' : '[ \\t]';
      else if (e === 'H') out += '[^ \\t]';
      else if (e === 'R') out += '(?:\\r\\n|\\n|\\r)';
      else if (e === '/') out += '\\/';
      else out += `\\${e}`;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      if (c === '[' && p[i + 1] === ':') {
        const end = p.indexOf(':]', i);
        const name = p.slice(i + 2, end);
        const posix: Record<string, string> = {
          alpha: 'A-Za-z',
          digit: '0-9',
          alnum: 'A-Za-z0-9',
          space: '\\s',
          upper: 'A-Z',
          lower: 'a-z',
          xdigit: '0-9A-Fa-f',
          punct: '!-\\/:-@\\[-`{-~',
          word: '\\w',
        };
        if (end > 0 && posix[name]) {
          out += posix[name];
          i = end + 1;
          continue;
        }
      }
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      if (p[i + 1] === '^') {
        out += '^';
        i++;
      }
      if (p[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '(' && p.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
      continue;
    }
    if (c === '(' && p.startsWith('(?>', i)) {
      out += '(?:';
      i += 2;
      continue;
    }
    if (c === '(' && /^\(\?[imsx]+\)/.test(p.slice(i))) {
      // Mid-pattern option groups have no JS equivalent; JS 'i' is applied globally if asked.
      const m = /^\(\?([imsx]+)\)/.exec(p.slice(i))!;
      for (const f of m[1]!) if (f === 'i' && !flags.includes('i')) flags += 'i';
      i += m[0].length - 1;
      continue;
    }
    // Possessive quantifiers: JS has none; the greedy form accepts the same strings in practice.
    if ((c === '+' || c === '*' || c === '?' || c === '}') && p[i + 1] === '+') {
      out += c;
      i++;
      continue;
    }
    if (c === '/') {
      out += '\\/';
      continue;
    }
    out += c;
  }
  return { source: out, flags };
}

export function compilePcre2(pattern: string): Pcre2 | string {
  const { source, flags } = translatePcre2(pattern);
  if (NESTED_QUANTIFIER.test(source) || QUANTIFIED_ALTERNATION.test(source)) {
    try {
      return { re: new RE2(source, flags.replace('m', '') + (flags.includes('m') ? 'm' : '')) as unknown as RegExp, engine: 're2' };
    } catch {
      // fall through to JS
    }
  }
  try {
    return { re: new RegExp(source, flags), engine: 'js' };
  } catch (e) {
    try {
      return { re: new RE2(source, flags) as unknown as RegExp, engine: 're2' };
    } catch {
      return (e as Error).message;
    }
  }
}
