import { createHash } from 'node:crypto';
import { ARTIFACT_KINDS, type ArtifactInfo, type ArtifactKind } from '@palisade/protocol';
import type { Kysely } from 'kysely';
import type { Clock } from './json-column.ts';
import { newId } from './secrets.ts';
import type { TenantTables } from './tenant-schema.ts';

export { ARTIFACT_KINDS, type ArtifactKind };

/** What the API lists and the effective configuration refers to; never the bytes. */
export type { ArtifactInfo };

export interface PutArtifact {
  kind: ArtifactKind;
  name: string;
  format: string;
  bytes: Uint8Array;
  source: string;
  description?: string;
}

type Row = TenantTables['artifacts'];
const INFO_COLUMNS = [
  'id',
  'kind',
  'name',
  'format',
  'sha256',
  'size',
  'version',
  'source',
  'description',
  'created_at',
  'updated_at',
  'refreshed_at',
  'last_error',
] as const;

function toInfo(r: Omit<Row, 'bytes'>): ArtifactInfo {
  return {
    id: r.id,
    kind: r.kind as ArtifactKind,
    name: r.name,
    format: r.format,
    sha256: r.sha256,
    size: Number(r.size),
    version: Number(r.version),
    source: r.source,
    description: r.description,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    refreshedAt: r.refreshed_at,
    lastError: r.last_error,
  };
}

export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Content-addressed artifacts of one tenant: one current version per (kind, name). Reads that
 * list or resolve never load the bytes; only the agent download (`bytesBySha`) does.
 */
export class ArtifactRepository {
  constructor(
    private readonly db: Kysely<TenantTables>,
    private readonly clock: Clock,
  ) {}

  /**
   * Stores new content under (kind, name). The same bytes again only mark the artifact as
   * refreshed (and keep its version), so a periodic download of an unchanged feed does not
   * make every agent fetch it again.
   */
  async put(input: PutArtifact): Promise<{ artifact: ArtifactInfo; changed: boolean; created: boolean }> {
    const now = this.clock().toISOString();
    const sha256 = sha256Of(input.bytes);
    const bytes = Buffer.from(input.bytes.buffer, input.bytes.byteOffset, input.bytes.byteLength);
    return this.db.transaction().execute(async (trx) => {
      const existing = await trx
        .selectFrom('artifacts')
        .select(INFO_COLUMNS)
        .where('kind', '=', input.kind)
        .where('name', '=', input.name)
        .executeTakeFirst();
      if (!existing) {
        const row: Row = {
          id: newId(),
          kind: input.kind,
          name: input.name,
          format: input.format,
          sha256,
          size: bytes.length,
          version: 1,
          bytes,
          source: input.source,
          description: input.description ?? '',
          created_at: now,
          updated_at: now,
          refreshed_at: now,
          last_error: null,
        };
        await trx.insertInto('artifacts').values(row).execute();
        const { bytes: _b, ...info } = row;
        return { artifact: toInfo(info), changed: true, created: true };
      }
      const same = existing.sha256 === sha256 && existing.format === input.format;
      // The same content rewrites the bytes too: a damaged row heals with the next upload or download.
      const patch = same
        ? {
            bytes,
            refreshed_at: now,
            last_error: null,
            source: input.source,
            ...(input.description !== undefined ? { description: input.description } : {}),
          }
        : {
            format: input.format,
            sha256,
            size: bytes.length,
            version: Number(existing.version) + 1,
            bytes,
            source: input.source,
            updated_at: now,
            refreshed_at: now,
            last_error: null,
            ...(input.description !== undefined ? { description: input.description } : {}),
          };
      await trx.updateTable('artifacts').set(patch).where('id', '=', existing.id).execute();
      const { bytes: _b, ...rest } = patch as Partial<Row>;
      return { artifact: toInfo({ ...existing, ...rest }), changed: !same, created: false };
    });
  }

  async list(kind?: ArtifactKind): Promise<ArtifactInfo[]> {
    let q = this.db.selectFrom('artifacts').select(INFO_COLUMNS);
    if (kind) q = q.where('kind', '=', kind);
    const rows = await q.orderBy('kind').orderBy('name').execute();
    return rows.map(toInfo);
  }

  async get(kind: ArtifactKind, name: string): Promise<ArtifactInfo | undefined> {
    const r = await this.db
      .selectFrom('artifacts')
      .select(INFO_COLUMNS)
      .where('kind', '=', kind)
      .where('name', '=', name)
      .executeTakeFirst();
    return r ? toInfo(r) : undefined;
  }

  /** The bytes an agent downloads, by content address. */
  async bytesBySha(sha256: string): Promise<{ bytes: Buffer; info: ArtifactInfo } | undefined> {
    const r = await this.db.selectFrom('artifacts').selectAll().where('sha256', '=', sha256).limit(1).executeTakeFirst();
    if (!r) return undefined;
    const { bytes, ...info } = r;
    return { bytes: Buffer.from(bytes), info: toInfo(info) };
  }

  async delete(kind: ArtifactKind, name: string): Promise<boolean> {
    const res = await this.db.deleteFrom('artifacts').where('kind', '=', kind).where('name', '=', name).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  /** A failed periodic download: the stored content stays, the error is shown with it. */
  async recordError(kind: ArtifactKind, name: string, message: string): Promise<void> {
    await this.db
      .updateTable('artifacts')
      .set({ last_error: message.slice(0, 2000) })
      .where('kind', '=', kind)
      .where('name', '=', name)
      .execute();
  }
}
