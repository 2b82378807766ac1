import { gunzipSync } from 'node:zlib';
import type { Diagnostic } from '@palisade/diagnostics';
import { loadSignatures } from '@palisade/signatures';
import { type FeedFormat, parseFeed } from '@palisade/web-reputation';
import { type ArtifactKind, artifactFileName } from '@palisade/protocol';

/** Artifact names double as file names on the agents: no separators, no dot-files. */
export const ARTIFACT_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$';
const NAME = new RegExp(ARTIFACT_NAME_PATTERN);

/** ClamAV databases and containers, and YARA rules: one file per signature set. */
export const SIGNATURE_FORMATS = ['hdb', 'hsb', 'mdb', 'msb', 'ndb', 'ldb', 'fp', 'sfp', 'ign', 'ign2', 'cvd', 'cld', 'yara'] as const;
/** `auto` detects the feed format from its first lines, as the agent does for local feed files. */
export const FEED_FORMATS = ['auto', 'urlhaus-csv', 'hosts', 'cidr-list', 'plain-list', 'palisade-json'] as const;

/** Largest artifact the manager stores (ADR 0007): the bytes live in the database row. */
export const MAX_ARTIFACT_BYTES = 256 * 1024 * 1024;

export interface ArtifactCheck {
  ok: boolean;
  /** Every problem, errors first, each with file:line where the parser knows it. */
  diagnostics: Diagnostic[];
  /** What was found (`{signatures}` or `{entries, format}`), for the answer and the audit log. */
  summary: Record<string, unknown>;
}

/** Formats are checked before the content: a wrong `format` is its own, clearer mistake. */
export function formatProblem(kind: ArtifactKind, format: string): string | undefined {
  const allowed: readonly string[] = kind === 'signature-set' ? SIGNATURE_FORMATS : FEED_FORMATS;
  return allowed.includes(format) ? undefined : `format ${JSON.stringify(format)} is not one of ${allowed.join(', ')}`;
}

export function nameProblem(name: string): string | undefined {
  return NAME.test(name) ? undefined : `name ${JSON.stringify(name)} must match ${ARTIFACT_NAME_PATTERN}`;
}

function feedText(bytes: Uint8Array): { text: string } | { error: string } {
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return { text: gunzipSync(bytes).toString('utf8') };
    } catch (err) {
      return { error: `cannot gunzip: ${(err as Error).message}` };
    }
  }
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) {
    return { error: 'zip feeds are not stored by the manager: upload the unpacked file (or gzip it)' };
  }
  return { text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8') };
}

/**
 * Parses the artifact with the engine that will use it on the agent, so a set the agent would
 * refuse is refused at upload instead, with the parser's file:line diagnostics.
 */
export function checkArtifact(kind: ArtifactKind, name: string, format: string, bytes: Uint8Array): ArtifactCheck {
  const file = artifactFileName(kind, name, format);
  if (bytes.length === 0) {
    return { ok: false, diagnostics: [{ code: 'ARTIFACT_EMPTY', message: 'the file is empty', severity: 'error', file }], summary: {} };
  }
  if (kind === 'signature-set') {
    const text = () => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    const loaded = loadSignatures(format === 'yara' ? { yara: [{ name: file, text: text() }] } : { clamav: [{ name: file, bytes }] });
    const diagnostics = [...loaded.diagnostics].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
    return { ok: loaded.ok, diagnostics, summary: {} };
  }
  const decoded = feedText(bytes);
  if ('error' in decoded) {
    return { ok: false, diagnostics: [{ code: 'WEBREP_FEED_UNREADABLE', message: decoded.error, severity: 'error', file }], summary: {} };
  }
  // Parsed exactly as the agent will parse it: format detected, or forced by a `# palisade:` line.
  const parsed = parseFeed(decoded.text, { name, file });
  const diagnostics = [...parsed.diagnostics].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
  if (!parsed.feed) return { ok: false, diagnostics, summary: {} };
  if (format !== 'auto' && parsed.feed.format !== (format as FeedFormat)) {
    const message = `the file reads as ${parsed.feed.format}, not ${format}; agents would read it as ${parsed.feed.format}: upload it with format auto, or put "# palisade: format=${format}" on its first line`;
    return {
      ok: false,
      diagnostics: [{ code: 'ARTIFACT_FORMAT_MISMATCH', message, severity: 'error', file, line: 1 }, ...diagnostics],
      summary: {},
    };
  }
  return { ok: true, diagnostics, summary: { entries: parsed.feed.entries.length, format: parsed.feed.format, list: parsed.feed.list } };
}
