import { compareDigitLists, compareDigits, compareStrings, isDigits } from './compare-digits.ts';

export interface SemverLikeVersion {
  components: string[];
  /** Everything after the numeric components: `-prerelease`, `+build`, or extra components. */
  build: string;
}

/**
 * Lenient SemVer parse used for npm, Go, crates.io and friends: advisories contain `v`
 * prefixes, more than three components and other near-SemVer strings, which a strict parser
 * would reject and silently drop from matching. Components beyond `maxComponents` move into
 * the build string so that `1.1.3.4` is still ordered after `1.1.3`.
 */
export function parseSemverLike(s: string, maxComponents: number): SemverLikeVersion {
  const line = s.startsWith('v') ? s.slice(1) : s;
  const components: string[] = [];
  let current = '';
  let build = '';
  let i = 0;
  for (; i < line.length; i++) {
    const c = line[i]!;
    if (c >= '0' && c <= '9') {
      current += c;
      continue;
    }
    if (current !== '') {
      components.push(current);
      current = '';
    }
    if (c === '.') continue;
    build = line.slice(i);
    break;
  }
  if (i >= line.length && current !== '') components.push(current);
  if (components.length > maxComponents) {
    const extra = components.splice(maxComponents);
    build += extra.map((x) => `.${x.replace(/^0+(?=\d)/, '')}`).join('');
  }
  return { components, build };
}

function stripBuildMetadata(s: string): string {
  const plus = s.indexOf('+');
  return plus < 0 ? s : s.slice(0, plus);
}

/** SemVer 2.0 §11 precedence of the pre-release part. */
export function comparePrerelease(aRaw: string, bRaw: string): number {
  let a = stripBuildMetadata(aRaw);
  let b = stripBuildMetadata(bRaw);
  if (a.startsWith('-')) a = a.slice(1);
  if (b.startsWith('-')) b = b.slice(1);
  if (a === '' && b !== '') return 1;
  if (a !== '' && b === '') return -1;
  const pa = a.split('.');
  const pb = b.split('.');
  const n = Math.min(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    const nx = isDigits(x);
    const ny = isDigits(y);
    let d: number;
    if (nx && ny) d = compareDigits(x, y);
    else if (!nx && !ny) d = compareStrings(x, y);
    else d = nx ? -1 : 1;
    if (d !== 0) return d;
  }
  return pa.length === pb.length ? 0 : pa.length > pb.length ? 1 : -1;
}

/** SemVer 2.0 ordering (npm, Go, crates.io, Hex, ...); build metadata is ignored. */
export function compareSemverVersions(a: string, b: string): number {
  const va = parseSemverLike(a, 3);
  const vb = parseSemverLike(b, 3);
  return compareDigitLists(va.components, vb.components) || comparePrerelease(va.build, vb.build);
}

/** NuGet: SemVer with a fourth numeric component and case-insensitive labels. */
export function compareNugetVersions(a: string, b: string): number {
  const va = parseSemverLike(a, 4);
  const vb = parseSemverLike(b, 4);
  return (
    compareDigitLists(va.components, vb.components) ||
    comparePrerelease(va.build.toLowerCase(), vb.build.toLowerCase())
  );
}

/** Pub (Dart): SemVer, but build metadata breaks ties instead of being ignored. */
export function comparePubVersions(a: string, b: string): number {
  const va = parseSemverLike(a, 3);
  const vb = parseSemverLike(b, 3);
  const d = compareDigitLists(va.components, vb.components) || comparePrerelease(va.build, vb.build);
  if (d !== 0) return d;
  const ba = va.build.includes('+') ? va.build.slice(va.build.indexOf('+') + 1) : '';
  const bb = vb.build.includes('+') ? vb.build.slice(vb.build.indexOf('+') + 1) : '';
  return compareStrings(ba, bb);
}
