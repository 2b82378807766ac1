// Public SQLi entry points of the libinjection port (C libinjection_sqli() and helpers).
//
// Copyright (c) 2012-2016, Nick Galbreath. BSD-3-Clause, see ./LICENSE
// (https://github.com/client9/libinjection). Port for Palisade.

import { FLAG_QUOTE_NONE, FLAG_SQL_ANSI, SqliState, type SqliToken } from './sqli-state.ts';
import { toByteString } from './to-byte-string.ts';

export interface SqliResult {
  isSqli: boolean;
  /** Fingerprint of the match (e.g. `s&1UE`), or `''` when the input is not SQLi. */
  fingerprint: string;
}

// One reused state: detection is synchronous, so sharing it is safe and saves allocations.
const shared = new SqliState();

/**
 * libinjection_sqli(): is the input SQL injection in any of the contexts libinjection tries
 * (as is, after a single quote, after a double quote)? Input is a byte string (char codes
 * 0-255, e.g. latin1-decoded bytes); other strings are checked as their UTF-8 bytes.
 */
export function detectSqli(input: string): SqliResult {
  // isSqli() resets the state for every context it tries, so init() is enough here
  const st = shared.init(toByteString(input), 0);
  const isSqli = st.isSqli();
  const fingerprint = isSqli ? st.fingerprint : '';
  st.release();
  return { isSqli, fingerprint };
}

/** The fingerprint of the input in one context (flags from sqli-state.ts); 'X' = unparsable. */
export function sqliFingerprint(input: string, flags: number = FLAG_QUOTE_NONE | FLAG_SQL_ANSI): string {
  return new SqliState(input, flags).computeFingerprint(flags);
}

/** Raw tokens of the input without folding (what libinjection's tokens tests print). */
export function tokenizeSqli(input: string, flags: number = FLAG_QUOTE_NONE | FLAG_SQL_ANSI): SqliToken[] {
  const st = new SqliState(input, flags);
  const out: SqliToken[] = [];
  while (st.tokenize()) out.push(st.current.clone());
  return out;
}

/** Tokens after folding, at most 5: what the fingerprint is built from. */
export function foldSqli(input: string, flags: number = FLAG_QUOTE_NONE | FLAG_SQL_ANSI): SqliToken[] {
  const st = new SqliState(input, flags);
  const n = st.fold();
  return st.tokenvec.slice(0, n).map((t) => t.clone());
}
