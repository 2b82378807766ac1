/**
 * Integrity monitoring shapes the manager passes through from the agents (documented in
 * docs/integrity.md): the text diff of an `integrity.*` event (`event.details.contentDiff`) and
 * the baseline summary of a computer (`computer.modules.integrity.details.baseline`).
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

export interface IntegrityBaselineSummary {
  builtAt: string | null;
  buildSeconds: number | null;
  buildReason: string | null;
  lastFullScan: { at: string; reason: string; seconds: number; entities: number; filesPerSecond: number } | null;
  lastChangeAt: string | null;
  counts: { entities: number; byKind: Record<string, number>; byRule: Record<string, number> };
  pendingChanges: number;
  contentCopies: { files: number; bytes: number; maxBytes: number; refused: number };
}
