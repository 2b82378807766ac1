import { compareDigitLists, compareDigits, compareStrings, isDigits } from './compare-digits.ts';

interface Labelled {
  label: string;
  number: string;
}

interface Pep440Version {
  epoch: string;
  release: string[];
  pre?: Labelled;
  post?: Labelled;
  dev?: Labelled;
  local: string[];
  /** Set for strings PEP 440 rejects; ordered with setuptools' old rules, below all valid ones. */
  legacy?: string;
}

// PEP 440 appendix B, canonical regular expression.
const PEP440_RE =
  /^\s*v?(?:(?:(\d+)!)?(\d+(?:\.\d+)*)([-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d+)?)?((?:-(\d+))|(?:[-_.]?(post|rev|r)[-_.]?(\d+)?))?([-_.]?(dev)[-_.]?(\d+)?)?)(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$/;

function labelled(label: string | undefined, number: string | undefined): Labelled | undefined {
  if (label) {
    const l = { alpha: 'a', beta: 'b', c: 'rc', pre: 'rc', preview: 'rc', rev: 'post', r: 'post' }[label] ?? label;
    return { label: l, number: number || '0' };
  }
  // `1.0-1` is the implicit post-release spelling.
  if (number) return { label: 'post', number };
  return undefined;
}

function legacyKey(s: string): string {
  const parts: string[] = [];
  const tokens: string[] = s.match(/\d+|[a-z]+|\.|-/g) ?? [];
  tokens.push('final');
  for (const raw of tokens) {
    if (raw === '.') continue;
    let part = ({ pre: 'c', preview: 'c', '-': 'final-', rc: 'c', dev: '@' } as Record<string, string>)[raw] ?? raw;
    part = /^\d/.test(part) ? part.padStart(8, '0') : `*${part}`;
    if (part.startsWith('*')) {
      if (part < '*final') while (parts.at(-1) === '*final-') parts.pop();
      while (parts.at(-1) === '00000000') parts.pop();
    }
    parts.push(part);
  }
  return parts.join('');
}

export function parsePep440Version(s: string): Pep440Version {
  const str = s.toLowerCase();
  const m = PEP440_RE.exec(str);
  if (!m) return { epoch: '0', release: [], local: [], legacy: legacyKey(str) };
  return {
    epoch: m[1] ?? '0',
    release: m[2]!.split('.'),
    pre: labelled(m[4], m[5]),
    post: labelled(m[8], m[7] ?? m[9]),
    dev: labelled(m[11], m[12]),
    local: m[13] ? m[13].split(/[-_.]/) : [],
  };
}

function comparePresence(a: unknown, b: unknown, absentIsGreater: boolean): number {
  if (a === undefined && b !== undefined) return absentIsGreater ? 1 : -1;
  if (a !== undefined && b === undefined) return absentIsGreater ? -1 : 1;
  return 0;
}

function comparePre(a: Pep440Version, b: Pep440Version): number {
  // A bare dev release (1.0.dev0) sorts before any pre-release of the same release (1.0a0).
  const da = !a.pre && !a.post && a.dev !== undefined;
  const db = !b.pre && !b.post && b.dev !== undefined;
  if (da || db) return da && db ? 0 : da ? -1 : 1;
  if (!a.pre || !b.pre) return comparePresence(a.pre, b.pre, true);
  return compareStrings(a.pre.label[0]!, b.pre.label[0]!) || compareDigits(a.pre.number, b.pre.number);
}

function compareLocal(a: string[], b: string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const na = isDigits(a[i]!);
    const nb = isDigits(b[i]!);
    let d: number;
    if (na && nb) d = compareDigits(a[i]!, b[i]!);
    else if (!na && !nb) d = compareStrings(a[i]!, b[i]!);
    else d = na ? 1 : -1;
    if (d !== 0) return d;
  }
  return a.length === b.length ? 0 : a.length > b.length ? 1 : -1;
}

/** PyPI ordering: PEP 440, with pre-PEP 440 ("legacy") versions ordered below valid ones. */
export function comparePep440Versions(a: string, b: string): number {
  const va = parsePep440Version(a);
  const vb = parsePep440Version(b);
  if (va.legacy !== undefined || vb.legacy !== undefined) {
    if (va.legacy === undefined) return 1;
    if (vb.legacy === undefined) return -1;
    return compareStrings(va.legacy, vb.legacy);
  }
  return (
    compareDigits(va.epoch, vb.epoch) ||
    compareDigitLists(va.release, vb.release) ||
    comparePre(va, vb) ||
    (comparePresence(va.post, vb.post, false) || (va.post && vb.post ? compareDigits(va.post.number, vb.post.number) : 0)) ||
    (comparePresence(va.dev, vb.dev, true) || (va.dev && vb.dev ? compareDigits(va.dev.number, vb.dev.number) : 0)) ||
    compareLocal(va.local, vb.local)
  );
}
