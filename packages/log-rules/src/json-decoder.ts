/**
 * analysisd's JSON_Decoder: every scalar of the document becomes a field named by its dotted
 * path. Arrays of scalars become one field holding the JSON text of the array, as Wazuh
 * renders them; arrays of objects likewise (their members are not flattened).
 */
export function decodeJson(text: string, fields: Map<string, string>, nullField: 'empty' | 'discard' | 'string'): boolean {
  const doc = parseLeadingJson(text);
  if (doc === undefined || doc === null || typeof doc !== 'object' || Array.isArray(doc)) return false;
  flatten(doc as Record<string, unknown>, '', fields, nullField);
  return true;
}

function flatten(obj: Record<string, unknown>, prefix: string, fields: Map<string, string>, nullField: string): void {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix + k;
    if (v === null) {
      if (nullField === 'discard') continue;
      set(fields, key, nullField === 'string' ? 'null' : '');
    } else if (Array.isArray(v)) {
      // Scalars of an array are joined with commas; nested objects/arrays are skipped.
      const parts: string[] = [];
      for (const item of v) {
        if (item === null) parts.push('null');
        else if (typeof item === 'number') parts.push(formatNumber(item));
        else if (typeof item === 'string' || typeof item === 'boolean') parts.push(String(item));
      }
      if (parts.length) set(fields, key, parts.join(','));
    } else if (typeof v === 'object') {
      flatten(v as Record<string, unknown>, `${key}.`, fields, nullField);
    } else if (typeof v === 'number') {
      set(fields, key, formatNumber(v));
    } else {
      set(fields, key, String(v));
    }
  }
}

/** cJSON prints numbers that fit an int as integers and every other number with `%f`. */
function formatNumber(n: number): string {
  if (Number.isInteger(n) && n >= -2147483648 && n <= 2147483647) return String(n);
  return n.toFixed(6);
}

function set(fields: Map<string, string>, key: string, value: string): void {
  if (!fields.has(key)) fields.set(key, value);
}

/** cJSON accepts trailing bytes after the document; so do we. */
function parseLeadingJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // find the end of the first balanced value
  }
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) {
        try {
          return JSON.parse(text.slice(0, i + 1));
        } catch {
          return undefined;
        }
      }
    }
  }
  return undefined;
}
