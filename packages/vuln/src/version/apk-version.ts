import { compareDigits, compareStrings } from './compare-digits.ts';

// Sort order of apk suffixes; the empty string stands for "no suffix".
const SUFFIX_ORDER = ['alpha', 'beta', 'pre', 'rc', '', 'cvs', 'svn', 'git', 'hg', 'p'];
const NO_SUFFIX = SUFFIX_ORDER.indexOf('');

interface ApkVersion {
  numbers: string[];
  letter: string;
  suffixes: { weight: number; number: string }[];
  build: string;
  remainder: string;
  invalid: boolean;
}

const NUMBERS_RE = /^(?:\d+\.?)*/;
const SUFFIX_RE = /^_(alpha|beta|pre|rc|cvs|svn|git|hg|p)(\d*)/;
const HASH_RE = /^~[0-9a-f]+/;
const BUILD_RE = /^-r(\d*)/;

/** Parses `number{.number}...{letter}{_suffix{number}}...{~hash}{-r#}` (apk-package(5)). */
export function parseApkVersion(s: string): ApkVersion {
  const v: ApkVersion = { numbers: [], letter: '', suffixes: [], build: '0', remainder: '', invalid: false };
  let rest = s;
  const nums = NUMBERS_RE.exec(rest)![0];
  if (nums !== '') {
    v.numbers = nums.split('.').map((x) => x || '0');
    rest = rest.slice(nums.length);
  }
  if (/^[a-z]/.test(rest)) {
    v.letter = rest[0]!;
    rest = rest.slice(1);
  }
  for (let m = SUFFIX_RE.exec(rest); m; m = SUFFIX_RE.exec(rest)) {
    v.suffixes.push({ weight: SUFFIX_ORDER.indexOf(m[1]!), number: m[2] || '0' });
    rest = rest.slice(m[0].length);
  }
  const hash = HASH_RE.exec(rest);
  // Commit hashes cannot be ordered, so they are parsed and dropped.
  if (hash) rest = rest.slice(hash[0].length);
  if (rest !== '') {
    const build = BUILD_RE.exec(rest);
    if (build) {
      v.build = build[1] || '0';
      rest = rest.slice(build[0].length);
    } else {
      v.invalid = true;
    }
  }
  v.remainder = rest;
  return v;
}

function compareNumberComponent(a: string, b: string, index: number, bothPresent: boolean): number {
  // apk compares non-leading components that start with 0 as strings (1.01 < 1.1), like a fraction.
  if (index !== 0 && bothPresent && (a[0] === '0' || b[0] === '0')) return compareStrings(a, b);
  return compareDigits(a, b);
}

/** Alpine apk ordering (`apk version -t`). */
export function compareApkVersions(a: string, b: string): number {
  const va = parseApkVersion(a);
  const vb = parseApkVersion(b);
  if (va.invalid && vb.invalid) return compareStrings(a, b);
  const n = Math.max(va.numbers.length, vb.numbers.length);
  for (let i = 0; i < n; i++) {
    const na = va.numbers[i];
    const nb = vb.numbers[i];
    const d = compareNumberComponent(na ?? '0', nb ?? '0', i, na !== undefined && nb !== undefined);
    if (d !== 0) return d;
  }
  if (va.letter !== vb.letter) {
    if (va.letter === '') return -1;
    if (vb.letter === '') return 1;
    return compareStrings(va.letter, vb.letter);
  }
  const ns = Math.max(va.suffixes.length, vb.suffixes.length);
  for (let i = 0; i < ns; i++) {
    const sa = va.suffixes[i] ?? { weight: NO_SUFFIX, number: '0' };
    const sb = vb.suffixes[i] ?? { weight: NO_SUFFIX, number: '0' };
    if (sa.weight !== sb.weight) return sa.weight < sb.weight ? -1 : 1;
    const d = compareDigits(sa.number, sb.number);
    if (d !== 0) return d;
  }
  const d = compareDigits(va.build, vb.build);
  if (d !== 0) return d;
  if (va.remainder === '' && vb.remainder !== '') return 1;
  if (va.remainder !== '' && vb.remainder === '') return -1;
  return 0;
}
