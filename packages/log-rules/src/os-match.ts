import { lowerOf } from './literal-prefilter.ts';

/**
 * OSSEC's os_match: case-insensitive substring matching. `|` separates alternatives, a leading
 * `^` anchors an alternative at the start and a trailing `$` at the end; nothing else is special.
 * Implemented with plain string searches on the lower-cased input (no regex needed).
 */
export interface OsMatch {
  readonly alternatives: readonly { text: string; start: boolean; end: boolean }[];
}

export function compileOsMatch(pattern: string): OsMatch {
  return {
    alternatives: pattern.split('|').map((alt) => {
      let text = alt;
      const start = text.startsWith('^');
      if (start) text = text.slice(1);
      const end = text.endsWith('$');
      if (end) text = text.slice(0, -1);
      return { text: text.toLowerCase(), start, end };
    }),
  };
}

/** Offset right after the first match, or -1. */
export function execOsMatch(m: OsMatch, s: string): number {
  const lower = lowerOf(s);
  let best = -1;
  for (const a of m.alternatives) {
    let at: number;
    if (a.start && a.end) at = lower === a.text ? 0 : -1;
    else if (a.start) at = lower.startsWith(a.text) ? 0 : -1;
    else if (a.end) at = lower.endsWith(a.text) ? lower.length - a.text.length : -1;
    else at = lower.indexOf(a.text);
    if (at >= 0) {
      const end = at + a.text.length;
      if (best < 0 || end < best) best = end;
    }
  }
  return best;
}

export function testOsMatch(m: OsMatch, s: string): boolean {
  const lower = lowerOf(s);
  for (const a of m.alternatives) {
    if (a.start && a.end ? lower === a.text : a.start ? lower.startsWith(a.text) : a.end ? lower.endsWith(a.text) : lower.includes(a.text))
      return true;
  }
  return false;
}
