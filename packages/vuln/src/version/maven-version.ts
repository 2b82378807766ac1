import { compareDigits, isDigits } from './compare-digits.ts';

interface MavenToken {
  prefix: '' | '.' | '-';
  value: string;
  isNull: boolean;
}

const KEYWORDS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];

function keywordRank(k: string): number {
  const i = KEYWORDS.indexOf(k);
  return i < 0 ? KEYWORDS.length : i;
}

// ".qualifier" < "-qualifier" < "-number" < ".number"
function prefixRank(t: MavenToken): number {
  if (isDigits(t.value)) return t.prefix === '-' ? 2 : 3;
  return t.prefix === '-' ? 1 : 0;
}

function tokenLess(a: MavenToken, b: MavenToken): boolean {
  if (a.prefix !== b.prefix) return prefixRank(a) < prefixRank(b);
  const na = isDigits(a.value);
  const nb = isDigits(b.value);
  if (na && nb) return compareDigits(a.value, b.value) < 0;
  // Numbers sort after qualifiers, except the padding "null" token.
  if (na && !a.isNull) return false;
  if (nb && !b.isNull) return true;
  const ra = keywordRank(a.value);
  const rb = keywordRank(b.value);
  if (ra === KEYWORDS.length && rb === KEYWORDS.length) return a.value < b.value;
  return ra < rb;
}

function nullToken(other: MavenToken): MavenToken {
  if (other.prefix === '-') return { prefix: '-', value: '', isNull: true };
  // "sp" is the one qualifier ranked after the empty one, so it must be padded with "".
  return { prefix: '.', value: other.value === 'sp' ? '' : '0', isNull: true };
}

/** Tokenises like Maven's ComparableVersion: split on '.', '-' and digit/letter transitions. */
export function parseMavenVersion(s: string): MavenToken[] {
  const tokens: MavenToken[] = [];
  const parts = s.split(/([.-])/);
  for (let i = 0; i < parts.length; i += 2) {
    let prefix: MavenToken['prefix'] = i === 0 ? '' : (parts[i - 1] as '.' | '-');
    const raw = parts[i]!;
    const pieces = raw.match(/\d+|\D+/g) ?? [''];
    pieces.forEach((piece, j) => {
      if (j > 0) prefix = '-';
      let v = piece.toLowerCase();
      if (v === '') v = '0';
      if (v === 'cr') v = 'rc';
      if (v === 'ga' || v === 'final' || v === 'release') v = '';
      // a, b and m abbreviate alpha, beta and milestone only when a number follows directly.
      if (j < pieces.length - 1) {
        if (v === 'a') v = 'alpha';
        else if (v === 'b') v = 'beta';
        else if (v === 'm') v = 'milestone';
      }
      if (isDigits(v)) v = v.replace(/^0+(?=\d)/, '');
      tokens.push({ prefix, value: v, isNull: false });
    });
  }
  // Trailing "null" values are trimmed, then again before each remaining hyphen, end to start.
  let i = tokens.length - 1;
  while (i > 0) {
    const v = tokens[i]!.value;
    if (v === '0' || v === '' || v === 'final' || v === 'ga') {
      tokens.splice(i, 1);
      i--;
      continue;
    }
    while (i >= 0 && tokens[i]!.prefix !== '-') i--;
    i--;
  }
  return tokens;
}

/** Maven ordering (org.apache.maven.artifact.versioning.ComparableVersion). */
export function compareMavenVersions(a: string, b: string): number {
  const ta = parseMavenVersion(a);
  const tb = parseMavenVersion(b);
  const n = Math.max(ta.length, tb.length);
  for (let i = 0; i < n; i++) {
    const x = i < ta.length ? ta[i]! : nullToken(tb[i]!);
    const y = i < tb.length ? tb[i]! : nullToken(ta[i]!);
    if (x.prefix === y.prefix && x.value === y.value) continue;
    return tokenLess(x, y) ? -1 : 1;
  }
  return 0;
}

