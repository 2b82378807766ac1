/**
 * OSSEC's os_match: case-insensitive substring matching. `|` separates alternatives, a leading
 * `^` anchors an alternative at the start and a trailing `$` at the end; nothing else is special.
 */
export interface OsMatch {
  readonly re: RegExp;
}

export function compileOsMatch(pattern: string): OsMatch {
  const alts = pattern.split('|').map((alt) => {
    let a = alt;
    let start = '';
    let end = '';
    if (a.startsWith('^')) {
      start = '^';
      a = a.slice(1);
    }
    if (a.endsWith('$')) {
      end = '$';
      a = a.slice(0, -1);
    }
    return start + a.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&') + end;
  });
  return { re: new RegExp(alts.map((a) => `(?:${a})`).join('|'), 'i') };
}

export function testOsMatch(m: OsMatch, s: string): boolean {
  return m.re.test(s);
}
