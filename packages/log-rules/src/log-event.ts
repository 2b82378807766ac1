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
  /** Lower-cased view of `fields`, built on first need: analysisd compares field names case-insensitively. */
  lowerFields?: Map<string, string>;
  /** Event time in seconds, given by the caller (engines have no clock). */
  time: number;
}
