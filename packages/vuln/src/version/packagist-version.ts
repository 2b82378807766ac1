import { compareDigits, isDigits } from './compare-digits.ts';

/** Canonical form used by PHP's version_compare: separators unified, digit/letter runs split. */
function canonicalize(v: string): string[] {
  let s = v.replace(/^[vV]/, '');
  s = s.replace(/[-_+]/g, '.');
  s = s.replace(/([^\d.])(\d)/g, '$1.$2');
  s = s.replace(/(\d)([^\d.])/g, '$1.$2');
  return s.split('.');
}

const SPECIALS = ['dev', 'a', 'b', 'rc', '#', 'p'];

function weigh(s: string): number {
  if (s.startsWith('RC')) return 3;
  for (let i = 0; i < SPECIALS.length; i++) if (s.startsWith(SPECIALS[i]!)) return i;
  return 0;
}

function compareSpecial(a: string, b: string): number {
  const d = weigh(a) - weigh(b);
  return d === 0 ? 0 : d < 0 ? -1 : 1;
}

function compareComponents(a: string[], b: string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    const nx = isDigits(x);
    const ny = isDigits(y);
    let d: number;
    if (nx && ny) d = compareDigits(x, y);
    else if (!nx && !ny) d = compareSpecial(x, y);
    else if (nx) d = compareSpecial('#', y);
    else d = compareSpecial(x, '#');
    if (d !== 0) return d;
  }
  if (a.length > b.length) return isDigits(a[b.length]!) ? 1 : compareComponents(a.slice(b.length), ['#']);
  if (a.length < b.length) return isDigits(b[a.length]!) ? -1 : compareComponents(['#'], b.slice(a.length));
  return 0;
}

/** Packagist ordering (PHP version_compare after composer's leading-v trim). */
export function comparePackagistVersions(a: string, b: string): number {
  return compareComponents(canonicalize(a), canonicalize(b));
}
