// Deterministic input generator for differential and robustness tests: mutations of real
// payloads plus random sequences of SQL/HTML fragments and raw bytes (all char codes 0-255).

const FRAGMENTS = [
  'select', 'union', 'all', 'from', 'where', 'and', 'or', 'not', 'in', 'like', 'if', 'user', '(', ')', '{', '}',
  '[', ']', '/*', '*/', '/*!', '--', '-- ', '#', "'", '"', '`', '@', '@@', '$', '$$', '$a$', '0x', '0b', '1',
  '1.e', '2e5', '.', '::', ';', ',', '\\', '\\N', "N'", "E'", "q'[", "U&'", "x'", "b'", '<', '>', '<script',
  '<a href=', 'javascript:', '&#106;', '&#x41;', 'on', 'onload=', 'style=', '<!--', '-->', '<!DOCTYPE',
  '<![CDATA[', ']]>', '<%', '%>', '<?', '\0', '\xa0', '\xff', ' ', '\t', '\n', '=', '!=', '||', '&&', '<=>',
  'sp_password', 'collate', 'utf8_bin', 'sleep', 'char', 'is', 'null', 'exec', 'into', 'outfile', 'having',
  'order by', 'group by', 'limit', 'case', 'when', 'then', 'else', 'end', 'sin', 'xmlns', 'svg', 'src=',
];

/** Small LCG so runs are reproducible without Math.random. */
export function makeRandom(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % n;
  };
}

export function mutatedInputs(seeds: readonly string[], count: number, seed: number): string[] {
  const rnd = makeRandom(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 2 === 0 && seeds.length > 0) {
      let s = seeds[rnd(seeds.length)];
      const edits = 1 + rnd(4);
      for (let k = 0; k < edits; k++) {
        const p = rnd(s.length + 1);
        const piece = rnd(3) === 0 ? String.fromCharCode(rnd(256)) : FRAGMENTS[rnd(FRAGMENTS.length)];
        const op = rnd(3);
        if (op === 0) s = s.slice(0, p) + piece + s.slice(p);
        else if (op === 1) s = s.slice(0, p) + s.slice(p + 1 + rnd(3));
        else s = s.slice(0, p) + piece + s.slice(p + piece.length);
      }
      out.push(s);
    } else {
      let s = '';
      const n = 1 + rnd(12);
      for (let k = 0; k < n; k++) {
        s += rnd(6) === 0 ? String.fromCharCode(rnd(256)) : FRAGMENTS[rnd(FRAGMENTS.length)];
        if (rnd(2) === 0) s += ' ';
      }
      out.push(s);
    }
  }
  return out;
}
