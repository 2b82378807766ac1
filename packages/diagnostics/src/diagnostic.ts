/**
 * One problem found in user input (a rule file, a feed, a policy document).
 * Engines return these instead of throwing so that a loader can report every problem at once,
 * each with its location, and then refuse the whole input (all-or-nothing loading).
 */
export interface Diagnostic {
  /** Stable, upper-case code, listed in docs/errors.md (e.g. `SECLANG_UNKNOWN_OPERATOR`). */
  code: string;
  message: string;
  severity: 'error' | 'warning';
  /** Path or logical name of the input; absent for inputs that have no name. */
  file?: string;
  /** 1-based line and column; absent when the problem has no single position. */
  line?: number;
  column?: number;
}

/** What a loader returns: the value only when there are no error diagnostics. */
export type LoadResult<T> = { ok: true; value: T; diagnostics: Diagnostic[] } | { ok: false; diagnostics: Diagnostic[] };

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** `file:line:column: error CODE: message` — the form compilers use, so editors can jump to it. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.file ? `${d.file}${d.line ? `:${d.line}${d.column ? `:${d.column}` : ''}` : ''}: ` : '';
  return `${where}${d.severity} ${d.code}: ${d.message}`;
}

/** Builds a LoadResult that is ok exactly when no diagnostic is an error. */
export function loadResult<T>(value: T, diagnostics: Diagnostic[]): LoadResult<T> {
  return hasErrors(diagnostics) ? { ok: false, diagnostics } : { ok: true, value, diagnostics };
}
