import type { ArtifactKind } from './artifact-refs.ts';

/**
 * A stored artifact as the manager's REST API lists it and the effective configuration refers
 * to it; never the bytes. Declared once here for the manager and api-client.
 */
export interface ArtifactInfo {
  id: string;
  kind: ArtifactKind;
  name: string;
  format: string;
  sha256: string;
  size: number;
  /** Starts at 1 and grows by one each time the content changes. */
  version: number;
  /** `upload`, `folder:<path>` or `url:<address>`: where the current bytes came from. */
  source: string;
  description: string;
  createdAt: string;
  /** When the content last changed. */
  updatedAt: string;
  /** When the content was last confirmed current (an upload or download, even of the same bytes). */
  refreshedAt: string;
  /** The last failed periodic download, cleared by the next success. */
  lastError: string | null;
}
