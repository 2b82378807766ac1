import type { Decoder } from './decoder-set.ts';

/** One log line on its way through pre-decoding, decoding and rule matching. */
export interface LogEvent {
  fullLog: string;
  /** The part decoders and rules look at (after the syslog header, when there is one). */
  log: string;
  location: string;
  hostname?: string;
  programName?: string;
  timestamp?: string;
  decoder?: Decoder;
  /** Static (srcip, dstuser, …) and dynamic decoded fields, in decoding order. */
  fields: Map<string, string>;
  /**
   * Values of the fields whose names have upper-case letters, by lower-cased name: analysisd
   * compares field names case-insensitively. Filled by setField.
   */
  lowerFields?: Map<string, string>;
  /** Event time in seconds, given by the caller (engines have no clock). */
  time: number;
  /** Set when a `<check_diff>` rule fired: the output it saw before. */
  previousOutput?: string;
}

function hasUpper(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return true;
  }
  return false;
}

/** Sets a decoded field unless it is set already (analysisd keeps the first value). */
export function setField(ev: Pick<LogEvent, 'fields' | 'lowerFields'>, name: string, value: string): void {
  if (ev.fields.has(name)) return;
  ev.fields.set(name, value);
  if (hasUpper(name)) {
    const lower = name.toLowerCase();
    if (!ev.lowerFields) ev.lowerFields = new Map();
    if (!ev.lowerFields.has(lower)) ev.lowerFields.set(lower, value);
  }
}

const lowerNames = new Map<string, string>();

/** Looks a field up by exact name, then case-insensitively. */
export function getField(ev: Pick<LogEvent, 'fields' | 'lowerFields'>, name: string): string | undefined {
  const v = ev.fields.get(name);
  if (v !== undefined) return v;
  let lower = lowerNames.get(name);
  if (lower === undefined) {
    lower = name.toLowerCase();
    if (lowerNames.size < 10000) lowerNames.set(name, lower);
  }
  if (lower !== name) {
    const exact = ev.fields.get(lower);
    if (exact !== undefined) return exact;
  }
  return ev.lowerFields?.get(lower);
}
