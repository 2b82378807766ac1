export { type Diagnostic, type LoadResult, formatDiagnostic, hasErrors, loadResult } from './diagnostic.ts';
export { LineIndex } from './line-index.ts';
