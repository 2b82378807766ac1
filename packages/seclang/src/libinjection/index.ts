// libinjection port: SQLi and XSS detection for @detectSQLi / @detectXSS and CrowdSec's
// libinjection match types. BSD-3-Clause (c) Nick Galbreath, see ./LICENSE.
export { detectSqli, foldSqli, sqliFingerprint, tokenizeSqli, type SqliResult } from './detect-sqli.ts';
export {
  FLAG_QUOTE_DOUBLE,
  FLAG_QUOTE_NONE,
  FLAG_QUOTE_SINGLE,
  FLAG_SQL_ANSI,
  FLAG_SQL_MYSQL,
  SqliState,
  SqliToken,
} from './sqli-state.ts';
export { detectXss, isXssInContext } from './detect-xss.ts';
export { Html5Flags, Html5TokenType, Html5Tokenizer, html5TokenTypeNames } from './html5-tokenizer.ts';
