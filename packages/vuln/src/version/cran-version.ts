import { compareDigitLists } from './compare-digits.ts';

function components(s: string): string[] {
  return s.split(/[.-]/).filter((x) => /^\d+$/.test(x));
}

/**
 * CRAN (R package_version) and Hackage (Data.Version) ordering: numeric components, and on
 * a tie the version with more components is greater (0.1.0 < 0.1.0.0), unlike zero padding.
 */
export function compareNumericComponentVersions(a: string, b: string): number {
  const ca = components(a);
  const cb = components(b);
  const d = compareDigitLists(ca, cb);
  if (d !== 0) return d;
  return ca.length === cb.length ? 0 : ca.length > cb.length ? 1 : -1;
}
