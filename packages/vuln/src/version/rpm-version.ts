import { compareDigits, compareStrings } from './compare-digits.ts';

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}
function isAlpha(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/** rpm's `rpmvercmp`, including `~` (sorts before everything) and `^` (after, but before more). */
export function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  for (;;) {
    while (i < a.length && !isAlpha(a[i]!) && !isDigit(a[i]!) && a[i] !== '~' && a[i] !== '^') i++;
    while (j < b.length && !isAlpha(b[j]!) && !isDigit(b[j]!) && b[j] !== '~' && b[j] !== '^') j++;
    const ta = a[i] === '~';
    const tb = b[j] === '~';
    if (ta || tb) {
      if (!tb) return -1;
      if (!ta) return 1;
      i++;
      j++;
      continue;
    }
    const ca = a[i] === '^';
    const cb = b[j] === '^';
    if (ca || cb) {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (!cb) return -1;
      if (!ca) return 1;
      i++;
      j++;
      continue;
    }
    if (i >= a.length || j >= b.length) break;
    const numeric = isDigit(a[i]!);
    const test = numeric ? isDigit : isAlpha;
    const si = i;
    while (i < a.length && test(a[i]!)) i++;
    const sj = j;
    while (j < b.length && test(b[j]!)) j++;
    const sa = a.slice(si, i);
    const sb = b.slice(sj, j);
    // A numeric segment is newer than an alphabetic one.
    if (sb === '') return numeric ? 1 : -1;
    const d = numeric ? compareDigits(sa, sb) : compareStrings(sa, sb);
    if (d !== 0) return d;
  }
  const ra = a.length - i;
  const rb = b.length - j;
  return ra === rb ? 0 : ra > rb ? 1 : -1;
}

export interface RpmVersion {
  epoch: string;
  version: string;
  release: string;
}

/**
 * `[epoch:]version[-release]`. A prefix before ':' counts as an epoch only when it is all
 * digits, so versions that merely contain a colon still compare as text.
 */
export function parseRpmVersion(s: string): RpmVersion {
  let epoch = '0';
  let rest = s;
  const colon = s.indexOf(':');
  if (colon >= 0 && /^\d*$/.test(s.slice(0, colon))) {
    epoch = s.slice(0, colon) || '0';
    rest = s.slice(colon + 1);
  }
  const dash = rest.indexOf('-');
  if (dash < 0) return { epoch, version: rest, release: '' };
  return { epoch, version: rest.slice(0, dash), release: rest.slice(dash) };
}

function compareOptional(a: string, b: string): number {
  if (a === '' && b !== '') return -1;
  if (a !== '' && b === '') return 1;
  return rpmvercmp(a, b);
}

/** Red Hat/RPM ordering (epoch, version, release each through rpmvercmp). */
export function compareRpmVersions(a: string, b: string): number {
  const va = parseRpmVersion(a);
  const vb = parseRpmVersion(b);
  return compareOptional(va.epoch, vb.epoch) || compareOptional(va.version, vb.version) || compareOptional(va.release, vb.release);
}
