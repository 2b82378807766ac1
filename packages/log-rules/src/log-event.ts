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

const lowerNames = new Map<string, string>();

/** The lower-cased field name, remembered: the same names come with every event. */
export function lowerName(name: string): string {
  let lower = lowerNames.get(name);
  if (lower === undefined) {
    lower = name.toLowerCase();
    // Names come from the logs (JSON keys), so the memory is bounded: when full, start over
    // (the names rules use come back at once).
    if (lowerNames.size >= 10000) lowerNames.clear();
    lowerNames.set(name, lower);
  }
  return lower;
}

/** Sets a decoded field unless it is set already (analysisd keeps the first value). */
export function setField(ev: Pick<LogEvent, 'fields' | 'lowerFields'>, name: string, value: string): void {
  const fields = ev.fields;
  if (fields.has(name)) return;
  fields.set(name, value);
  const lower = lowerName(name);
  if (lower !== name) {
    let lf = ev.lowerFields;
    if (!lf) ev.lowerFields = lf = new Map();
    if (!lf.has(lower)) lf.set(lower, value);
  }
}

/** Looks a field up by exact name, then case-insensitively. */
export function getField(ev: Pick<LogEvent, 'fields' | 'lowerFields'>, name: string): string | undefined {
  const v = ev.fields.get(name);
  if (v !== undefined) return v;
  const lower = lowerName(name);
  if (lower !== name) {
    const exact = ev.fields.get(lower);
    if (exact !== undefined) return exact;
  }
  return ev.lowerFields?.get(lower);
}
