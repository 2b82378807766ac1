/**
 * Signature sets and web-reputation feeds the manager stores and the agents download (ADR 0007).
 * A policy names them; the effective configuration an agent receives carries, for each name,
 * where to fetch it and the SHA-256 it must have. The agent verifies the hash before any use.
 */
export const ARTIFACT_KINDS = ['signature-set', 'webrep-feed'] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

/** One resolved reference, as the agent receives it. */
export interface ArtifactRef {
  kind: ArtifactKind;
  name: string;
  /** Absent when the policy names an artifact the manager does not have. */
  sha256?: string;
  size?: number;
  format?: string;
  /** Path on the manager, relative to its URL: `/api/agent/v1/artifacts/<sha256>`. */
  url?: string;
  /** When the manager last confirmed the content current (stale-feed checks on the agent). */
  refreshedAt?: string;
  /** Set instead of sha256/url when the name does not resolve. */
  missing?: true;
}

/** Agent-authenticated download of an artifact's bytes by content address. */
export const artifactDownloadPath = (sha256: string): string => `/api/agent/v1/artifacts/${sha256}`;

/**
 * Where the references sit in module settings. Anti-malware: `settings.signatureSets` (names in
 * the policy, ArtifactRef objects in the effective configuration). Web reputation: feeds in
 * `settings.feeds` that give a `name` and no `file` come from the manager and carry `artifact`.
 */
export const ARTIFACT_SETTINGS = {
  signatureSets: { module: 'anti-malware', key: 'signatureSets' },
  feeds: { module: 'web-reputation', key: 'feeds' },
} as const;

export function isArtifactRef(v: unknown): v is ArtifactRef {
  const r = v as ArtifactRef;
  return typeof v === 'object' && v !== null && typeof r.name === 'string' && (r.kind === 'signature-set' || r.kind === 'webrep-feed');
}

/**
 * The file name an artifact gets (the manager's diagnostics, the agent's cache): the extension
 * tells the signature loader the format; a feed keeps its bare name, which becomes the feed's
 * name in verdicts and events.
 */
export function artifactFileName(kind: ArtifactKind, name: string, format: string): string {
  if (kind === 'signature-set') return `${name}.${format === 'yara' ? 'yar' : format}`;
  return name;
}
