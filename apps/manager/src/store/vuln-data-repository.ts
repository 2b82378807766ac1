import type { Kysely } from 'kysely';
import { type Clock, fromJson, toJson } from './json-column.ts';
import { newId } from './secrets.ts';
import type { DirectoryTables } from './tenant-schema.ts';

export interface VulnImport {
  id: string;
  time: string;
  source: string;
  added: number;
  updated: number;
  unchanged: number;
  skipped: number;
  diagnostics: Array<{ code: string; message: string; file?: string }>;
}

/**
 * OSV advisories, shared by all tenants. Imports are incremental: a record replaces the stored
 * one only when its `modified` time is newer, and every import is recorded.
 */
export class VulnDataRepository {
  constructor(
    private readonly db: Kysely<DirectoryTables>,
    private readonly clock: Clock,
  ) {}

  async import(
    source: string,
    records: ReadonlyArray<{ id: string; modified: string }>,
    diagnostics: VulnImport['diagnostics'],
    skipped: number,
  ): Promise<VulnImport> {
    let added = 0;
    let updated = 0;
    let unchanged = 0;
    for (let i = 0; i < records.length; i += 500) {
      const chunk = records.slice(i, i + 500);
      await this.db.transaction().execute(async (tx) => {
        const existing = new Map(
          (
            await tx
              .selectFrom('advisories')
              .select(['id', 'modified'])
              .where(
                'id',
                'in',
                chunk.map((r) => r.id),
              )
              .execute()
          ).map((r) => [r.id, r.modified]),
        );
        for (const rec of chunk) {
          const prev = existing.get(rec.id);
          if (prev === undefined) {
            await tx
              .insertInto('advisories')
              .values({ id: rec.id, modified: rec.modified, record: toJson(rec) })
              .execute();
            existing.set(rec.id, rec.modified);
            added++;
          } else if (Date.parse(rec.modified) > Date.parse(prev)) {
            await tx
              .updateTable('advisories')
              .set({ modified: rec.modified, record: toJson(rec) })
              .where('id', '=', rec.id)
              .execute();
            existing.set(rec.id, rec.modified);
            updated++;
          } else unchanged++;
        }
      });
    }
    const entry: VulnImport = {
      id: newId(),
      time: this.clock().toISOString(),
      source,
      added,
      updated,
      unchanged,
      skipped,
      diagnostics: diagnostics.slice(0, 1000),
    };
    await this.db
      .insertInto('vuln_imports')
      .values({ ...entry, diagnostics: toJson(entry.diagnostics) })
      .execute();
    return entry;
  }

  async imports(limit = 50): Promise<VulnImport[]> {
    const rows = await this.db.selectFrom('vuln_imports').selectAll().orderBy('time', 'desc').limit(limit).execute();
    return rows.map((r) => ({
      ...r,
      added: Number(r.added),
      updated: Number(r.updated),
      unchanged: Number(r.unchanged),
      skipped: Number(r.skipped),
      diagnostics: fromJson(r.diagnostics, []),
    }));
  }

  /** Changes whenever the data set changes, so caches of the index know when to reload. */
  async version(): Promise<string> {
    const r = await this.db
      .selectFrom('advisories')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.max('modified').as('m')])
      .executeTakeFirstOrThrow();
    const last = await this.db.selectFrom('vuln_imports').select('id').orderBy('time', 'desc').limit(1).executeTakeFirst();
    return `${Number(r.n)}:${r.m ?? ''}:${last?.id ?? ''}`;
  }

  async *all(batch = 5000): AsyncGenerator<unknown[]> {
    let after = '';
    for (;;) {
      const rows = await this.db
        .selectFrom('advisories')
        .select(['id', 'record'])
        .where('id', '>', after)
        .orderBy('id')
        .limit(batch)
        .execute();
      if (rows.length === 0) return;
      yield rows.map((r) => JSON.parse(r.record));
      after = rows[rows.length - 1]!.id;
    }
  }
}
