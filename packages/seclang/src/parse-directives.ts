import type { Diagnostic } from '@palisade/diagnostics';

export interface Position {
  file: string;
  line: number;
  column: number;
}

export interface DirectiveArg {
  value: string;
  pos: Position;
  /** Maps an offset inside `value` to its position in the source (for errors inside an argument). */
  at(offset: number): Position;
}

export interface Directive {
  name: string;
  args: DirectiveArg[];
  pos: Position;
}

/**
 * Splits one SecLang file into directives. Handles `\` line continuations (keeping a map from
 * each joined character back to its source line/column so every diagnostic points into the
 * file) and double-quoted arguments with `\"` escapes; other backslashes are kept for the
 * regex and action parsers.
 */
export function parseDirectives(text: string, file: string, diagnostics: Diagnostic[]): Directive[] {
  const lines = text.split('\n');
  const out: Directive[] = [];
  let ln = 0;
  while (ln < lines.length) {
    // Build one logical line.
    let joined = '';
    const segStart: number[] = [];
    const segLine: number[] = [];
    for (;;) {
      let raw = lines[ln] ?? '';
      if (raw.endsWith('\r')) raw = raw.slice(0, -1);
      segStart.push(joined.length);
      segLine.push(ln + 1);
      ln += 1;
      if (raw.endsWith('\\') && ln < lines.length) {
        joined += raw.slice(0, -1);
        continue;
      }
      joined += raw;
      break;
    }
    const posAt = (off: number): Position => {
      let s = segStart.length - 1;
      while (s > 0 && segStart[s]! > off) s -= 1;
      return { file, line: segLine[s]!, column: off - segStart[s]! + 1 };
    };
    const trimmed = joined.trimStart();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    let i = joined.length - trimmed.length;
    const tokens: { value: string; start: number; offsets: number[] }[] = [];
    let bad = false;
    while (i < joined.length) {
      while (i < joined.length && (joined[i] === ' ' || joined[i] === '\t')) i += 1;
      if (i >= joined.length) break;
      // An unquoted '#' after the arguments starts a trailing comment.
      if (joined[i] === '#' && tokens.length > 0) break;
      const start = i;
      let value = '';
      const offsets: number[] = [];
      if (joined[i] === '"') {
        i += 1;
        let closed = false;
        while (i < joined.length) {
          const c = joined[i]!;
          if (c === '\\' && joined[i + 1] === '"') {
            offsets.push(i + 1);
            value += '"';
            i += 2;
            continue;
          }
          if (c === '"') {
            closed = true;
            i += 1;
            break;
          }
          offsets.push(i);
          value += c;
          i += 1;
        }
        if (!closed) {
          diagnostics.push({ code: 'SECLANG_UNTERMINATED_QUOTE', message: 'missing closing double quote', severity: 'error', ...posAt(start) });
          bad = true;
          break;
        }
      } else {
        while (i < joined.length && joined[i] !== ' ' && joined[i] !== '\t') {
          offsets.push(i);
          value += joined[i];
          i += 1;
        }
      }
      tokens.push({ value, start, offsets });
    }
    if (bad || tokens.length === 0) continue;
    const [head, ...rest] = tokens;
    out.push({
      name: head!.value,
      pos: posAt(head!.start),
      args: rest.map((t) => ({
        value: t.value,
        pos: posAt(t.start),
        at: (off: number) => posAt(t.offsets[Math.min(off, t.offsets.length - 1)] ?? t.start),
      })),
    });
  }
  return out;
}
