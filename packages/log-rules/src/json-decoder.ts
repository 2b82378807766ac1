import { type LogEvent, setField } from './log-event.ts';

/**
 * analysisd's JSON_Decoder: every scalar of the document becomes a field named by its dotted
 * path. Arrays of scalars become one field holding the JSON text of the array, as Wazuh
 * renders them; arrays of objects likewise (their members are not flattened).
 */
type FieldSink = Pick<LogEvent, 'fields' | 'lowerFields'>;

export function decodeJson(text: string, fields: FieldSink, nullField: 'empty' | 'discard' | 'string'): boolean {
  const doc = parseLeadingJson(text);
  if (doc === undefined || doc === null || typeof doc !== 'object' || Array.isArray(doc)) return false;
  flatten(doc as Record<string, unknown>, '', fields, nullField);
  return true;
}

function flatten(obj: Record<string, unknown>, prefix: string, fields: FieldSink, nullField: string): void {
  // for-in over a JSON.parse result: own enumerable keys in insertion order, no entry arrays.
  for (const k in obj) {
    const v = obj[k];
    const key = prefix === '' ? k : prefix + k;
    if (v === null) {
      if (nullField === 'discard') continue;
      set(fields, key, nullField === 'string' ? 'null' : '');
    } else if (Array.isArray(v)) {
      // Arrays keep their JSON text, printed the way cJSON_Print formats it.
      set(fields, key, printCjson(v, 0));
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

function set(fields: FieldSink, key: string, value: string): void {
  setField(fields, key, value);
  // A top-level "user" is also the static user field (dstuser), as analysisd does.
  if (key === 'user') setField(fields, 'dstuser', value);
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

function printString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (c === 8) out += '\\b';
    else if (c === 12) out += '\\f';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c < 32) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

function printNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 2 ** 31) return String(n);
  const p15 = Number(n.toPrecision(15));
  return String(p15 === n ? p15 : Number(n.toPrecision(17)));
}

/** cJSON_Print: tabs and newlines around object members, ", " between array items. */
export function printCjson(v: unknown, depth: number): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return printNumber(v);
  if (typeof v === 'string') return printString(v);
  if (Array.isArray(v)) return `[${v.map((x) => printCjson(x, depth + 1)).join(', ')}]`;
  const entries = Object.entries(v as Record<string, unknown>);
  const inner = '\t'.repeat(depth + 1);
  let out = '{\n';
  entries.forEach(([k, x], i) => {
    out += `${inner}${printString(k)}:\t${printCjson(x, depth + 1)}${i < entries.length - 1 ? ',' : ''}\n`;
  });
  return `${out}${'\t'.repeat(depth)}}`;
}
