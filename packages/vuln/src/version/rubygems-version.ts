import { compareDigits, compareStrings, isDigits } from './compare-digits.ts';

/** Gem::Version#canonical_segments: digit/letter boundaries split, trailing zeros dropped. */
export function parseRubygemsVersion(s: string): string[] {
  // Gem::Version turns '-' into '.pre.', which makes `1.0-x` a pre-release of 1.0.
  const segments = s.trim().replaceAll('-', '.pre.').match(/\d+|[a-z]+/gi) ?? [];
  const numbers: string[] = [];
  const rest: string[] = [];
  for (const seg of segments) {
    if (rest.length > 0 || !isDigits(seg)) rest.push(seg);
    else numbers.push(seg);
  }
  const trim = (xs: string[]): string[] => {
    let n = xs.length;
    while (n > 0 && /^0+$/.test(xs[n - 1]!)) n--;
    return xs.slice(0, n);
  };
  return [...trim(numbers), ...trim(rest)];
}

/** RubyGems ordering (Gem::Version#<=>): letters make a pre-release, numbers beat letters. */
export function compareRubygemsVersions(a: string, b: string): number {
  const sa = parseRubygemsVersion(a);
  const sb = parseRubygemsVersion(b);
  const n = Math.max(sa.length, sb.length);
  for (let i = 0; i < n; i++) {
    const x = sa[i] ?? '0';
    const y = sb[i] ?? '0';
    const nx = isDigits(x);
    const ny = isDigits(y);
    let d: number;
    if (nx && ny) d = compareDigits(x, y);
    else if (!nx && !ny) d = compareStrings(x, y);
    else d = nx ? 1 : -1;
    if (d !== 0) return d;
  }
  return 0;
}
