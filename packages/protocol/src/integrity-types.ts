/**
 * Integrity-monitoring shapes the agent sends and the manager passes through unchanged
 * (documented in docs/integrity.md): the text diff of an `integrity.*` event
 * (`event.details.contentDiff`) and the baseline summary of a computer (heartbeat
 * `modules.integrity.details.baseline`, shown by `GET /api/v1/computers/{id}`).
 */
export type IntegrityContentDiff =
  | {
      status: 'diff';
      /** Unified diff (`diff -u`), secrets shown as `[redacted#N]`. */
      diff: string;
      added: number;
      removed: number;
      truncated: boolean;
      approximate: boolean;
      redacted: number;
      redaction: boolean;
      sha256?: string;
    }
  | {
      status: 'skipped';
      reason: 'binary' | 'too-large' | 'no-previous-copy' | 'redaction-changed' | 'unreadable' | 'unchanged';
      sha256?: string;
    };

/** What the baseline holds, when it was built, how the last full scan went. */
export interface IntegrityBaselineSummary {
  /** When the baseline was built (first start, or rebuilt on command), and how long it took. */
  builtAt: string | null;
  buildSeconds: number | null;
  buildReason: string | null;
  lastFullScan: { at: string; reason: string; seconds: number; entities: number; filesPerSecond: number } | null;
  /** When a change was last reported. */
  lastChangeAt: string | null;
  counts: { entities: number; byKind: Record<string, number>; byRule: Record<string, number> };
  /** Changes reported and not yet accepted (`integrity.accept`) or cleared by a rebuild. */
  pendingChanges: number;
  /** The copies kept for text diffs: compressed bytes held, and copies refused because the store was full. */
  contentCopies: { files: number; bytes: number; maxBytes: number; refused: number };
}
