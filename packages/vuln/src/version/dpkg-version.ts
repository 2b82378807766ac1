import { compareDigits } from './compare-digits.ts';

/** Character weight in dpkg's `order()`: `~` before end-of-part, letters before other marks. */
function weight(s: string, i: number): number {
  if (i >= s.length) return 0;
  const c = s.charCodeAt(i);
  if (c === 126) return -1; // '~'
  if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) return c;
  return c + 256;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** dpkg's `verrevcmp` over one part (upstream version or revision). */
function compareDpkgPart(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(a.charCodeAt(i))) || (j < b.length && !isDigit(b.charCodeAt(j)))) {
      const wa = i < a.length && !isDigit(a.charCodeAt(i)) ? weight(a, i) : 0;
      const wb = j < b.length && !isDigit(b.charCodeAt(j)) ? weight(b, j) : 0;
      if (wa !== wb) return wa < wb ? -1 : 1;
      if (i < a.length && !isDigit(a.charCodeAt(i))) i++;
      if (j < b.length && !isDigit(b.charCodeAt(j))) j++;
    }
    const si = i;
    while (i < a.length && isDigit(a.charCodeAt(i))) i++;
    const sj = j;
    while (j < b.length && isDigit(b.charCodeAt(j))) j++;
    const d = compareDigits(a.slice(si, i) || '0', b.slice(sj, j) || '0');
    if (d !== 0) return d;
  }
  return 0;
}

export interface DpkgVersion {
  epoch: string;
  upstream: string;
  revision: string;
}

/**
 * Splits `[epoch:]upstream[-revision]` the way dpkg does: the epoch ends at the first colon,
 * the revision starts after the last hyphen. A missing revision equals revision "0", which is
 * why `1.0` and `1.0-0` compare equal.
 */
export function parseDpkgVersion(version: string): DpkgVersion {
  let s = version.trim();
  let epoch = '0';
  const colon = s.indexOf(':');
  if (colon >= 0 && /^\d+$/.test(s.slice(0, colon))) {
    epoch = s.slice(0, colon);
    s = s.slice(colon + 1);
  }
  const dash = s.lastIndexOf('-');
  if (dash >= 0) return { epoch, upstream: s.slice(0, dash), revision: s.slice(dash + 1) };
  return { epoch, upstream: s, revision: '' };
}

/** Debian/Ubuntu ordering, identical to `dpkg --compare-versions`. */
export function compareDpkgVersions(a: string, b: string): number {
  const va = parseDpkgVersion(a);
  const vb = parseDpkgVersion(b);
  return (
    compareDigits(va.epoch, vb.epoch) ||
    compareDpkgPart(va.upstream, vb.upstream) ||
    compareDpkgPart(va.revision, vb.revision)
  );
}
