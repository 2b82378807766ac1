import { createHash } from 'node:crypto';
import type { IntegrityRule } from './integrity-rule-set.ts';
import { compileRedactionPattern, numberRedactions, redactSecrets, type SecretFingerprint } from './secret-redaction.ts';
import { decodeText, unifiedDiff } from './text-diff.ts';

/** What a rule asks of the text diffs of its files, compiled once. */
export interface DiffPolicy {
  maxBytes: number;
  redact: boolean;
  patterns: RegExp[];
  /**
   * Identifies the redaction settings: a copy stored under other settings is not compared with a
   * new one (the two would differ in what is hidden, not in what changed).
   */
  redactionKey: string;
}

const policies = new WeakMap<IntegrityRule, DiffPolicy>();

/** The diff policy of a rule (its patterns were validated when the rule was loaded). */
export function diffPolicy(rule: IntegrityRule): DiffPolicy {
  let p = policies.get(rule);
  if (!p) {
    const patterns = rule.redactPatterns.map(compileRedactionPattern).filter((r): r is RegExp => r instanceof RegExp);
    const redactionKey = rule.redact
      ? createHash('sha256')
          .update(`v1\0${rule.redactPatterns.join('\0')}`)
          .digest('hex')
          .slice(0, 16)
      : 'off';
    p = { maxBytes: rule.diffMaxBytes, redact: rule.redact, patterns, redactionKey };
    policies.set(rule, p);
  }
  return p;
}

export type SkipReason = 'binary' | 'too-large';

/** A file's content as it is stored and compared: decoded text, secrets already replaced by fingerprints. */
export type PreparedContent = { text: string; redactions: number } | { skipped: SkipReason };

/**
 * Turns file bytes into comparable text: too large (over the rule's `diffMaxBytes`) and binary
 * files (NUL bytes, invalid UTF-8) are skipped; secrets are fingerprinted unless the rule says
 * `redact: false`.
 */
export function prepareContent(bytes: Uint8Array, policy: DiffPolicy, fingerprint: SecretFingerprint): PreparedContent {
  if (bytes.length > policy.maxBytes) return { skipped: 'too-large' };
  const text = decodeText(bytes);
  if (text === undefined) return { skipped: 'binary' };
  if (!policy.redact) return { text, redactions: 0 };
  const r = redactSecrets(text, fingerprint, { patterns: policy.patterns });
  return { text: r.text, redactions: r.count };
}

/**
 * The `contentDiff` of an integrity event. `status` is `diff` (with the unified diff), or
 * `skipped` with the reason: `binary`, `too-large`, `no-previous-copy` (the first change seen of a
 * file whose copy was not kept: the baseline predates `reportChanges`, or the copy store is full),
 * `redaction-changed` (the copy was kept under other redaction settings), `unreadable`,
 * `unchanged` (the content read now equals the copy: only metadata changed).
 */
export type ContentDiff =
  | {
      status: 'diff';
      diff: string;
      added: number;
      removed: number;
      truncated: boolean;
      approximate: boolean;
      /** Secrets shown as `[redacted#N]` (the same N on both sides for the same value). */
      redacted: number;
      /** Whether redaction was on for this file. */
      redaction: boolean;
    }
  | { status: 'skipped'; reason: SkipReason | 'no-previous-copy' | 'redaction-changed' | 'unreadable' | 'unchanged' };

/**
 * Diffs two prepared texts (`undefined` = no such file: created or deleted) for an event. The
 * fingerprints become `[redacted#N]` here, so the event carries neither secrets nor fingerprints.
 */
export function contentDiff(before: string | undefined, after: string | undefined, key: string, redaction: boolean): ContentDiff {
  const [a, b] = numberRedactions(before ?? '', after ?? '');
  if (before !== undefined && after !== undefined && a === b) return { status: 'skipped', reason: 'unchanged' };
  const d = unifiedDiff(a, b, { labels: [before === undefined ? '/dev/null' : key, after === undefined ? '/dev/null' : key] });
  const tokens = new Set(d.diff.match(/\[redacted#\d+\]/g) ?? []);
  return { status: 'diff', ...d, redacted: tokens.size, redaction };
}
