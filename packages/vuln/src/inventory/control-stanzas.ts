/** One stanza of a Debian control-style file: field name (lower case) -> value, with its line. */
export interface Stanza {
  fields: Map<string, string>;
  line: number;
}

/**
 * Splits RFC 822-like stanza files (dpkg `status`, apk `installed` uses a cousin format with
 * one-letter keys) on blank lines. Continuation lines (leading space) are appended, because
 * `Description:` and `Conffiles:` span many lines and must not be read as fields.
 */
export function parseControlStanzas(text: string): Stanza[] {
  const stanzas: Stanza[] = [];
  let current: Stanza | undefined;
  let lastKey = '';
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (line.trim() === '') {
      current = undefined;
      continue;
    }
    if (!current) {
      current = { fields: new Map(), line: i + 1 };
      stanzas.push(current);
    }
    if ((line[0] === ' ' || line[0] === '\t') && lastKey) {
      current.fields.set(lastKey, `${current.fields.get(lastKey) ?? ''}\n${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    lastKey = line.slice(0, colon).toLowerCase();
    current.fields.set(lastKey, line.slice(colon + 1).trim());
  }
  return stanzas;
}
