/**
 * Translates a YARA regular expression into a JavaScript one that runs over a latin1 string
 * (one char per byte). The dialects differ in a few places that matter for bytes: `.` excludes
 * only `\n` in YARA (JS also excludes `\r`), `\s` is ASCII-only in YARA, and `{,n}` is valid.
 */
export function translateYaraRegex(src: string, nocase: boolean, dotAll: boolean): RegExp | string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '\\') {
      const e = src[i + 1];
      if (e === undefined) return 'regular expression ends with "\\"';
      i++;
      if (e === 's') out += inClass ? '\\t\\n\\v\\f\\r ' : '[\\t\\n\\v\\f\\r ]';
      else if (e === 'S') {
        if (inClass) return '"\\S" inside a character class is not supported';
        out += '[^\\t\\n\\v\\f\\r ]';
      } else if (e === 'x') {
        const h = src.slice(i + 1, i + 3);
        if (!/^[0-9a-fA-F]{2}$/.test(h)) return 'bad "\\x" escape';
        out += `\\x${h}`;
        i += 2;
      } else if (/[dDwWbB]/.test(e)) out += `\\${e}`;
      else if (/[nrtfva0]/.test(e)) out += e === 'a' ? '\\x07' : `\\${e}`;
      else if (/[A-Za-z0-9]/.test(e)) return `unknown escape "\\${e}"`;
      else out += `\\${e}`;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      // A `]` right after `[` or `[^` is a literal in YARA.
      if (src[i + 1] === '^') {
        out += '^';
        i++;
      }
      if (src[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '.') {
      out += dotAll ? '[\\s\\S]' : '[^\\n]';
      continue;
    }
    if (c === '{' && src[i + 1] === ',') {
      out += '{0,';
      i++;
      continue;
    }
    out += c;
  }
  if (inClass) return 'unterminated character class';
  try {
    return new RegExp(out, nocase ? 'gi' : 'g');
  } catch (e) {
    return `invalid regular expression: ${(e as Error).message}`;
  }
}
