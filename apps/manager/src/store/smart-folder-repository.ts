import type { Kysely } from 'kysely';
import type { SmartFolderQuery } from '../queries/smart-folder-query.ts';
import { type Clock, fromJson, toJson } from './json-column.ts';
import { isUniqueViolation } from './policy-repository.ts';
import { newId } from './secrets.ts';
import { StoreError } from './store-error.ts';
import type { TenantTables } from './tenant-schema.ts';

export interface SmartFolder {
  id: string;
  name: string;
  query: SmartFolderQuery;
  createdAt: string;
  updatedAt: string;
}

const toFolder = (r: TenantTables['smart_folders']): SmartFolder => ({
  id: r.id,
  name: r.name,
  query: fromJson(r.query, { all: [] }),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export class SmartFolderRepository {
  constructor(
    private readonly db: Kysely<TenantTables>,
    private readonly clock: Clock,
  ) {}

  async create(name: string, query: SmartFolderQuery): Promise<SmartFolder> {
    const now = this.clock().toISOString();
    const row = { id: newId(), name, query: toJson(query), created_at: now, updated_at: now };
    try {
      await this.db.insertInto('smart_folders').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new StoreError('STORE_CONFLICT', `a smart folder named ${JSON.stringify(name)} exists`, 'name');
      throw err;
    }
    return toFolder(row);
  }

  async list(): Promise<SmartFolder[]> {
    return (await this.db.selectFrom('smart_folders').selectAll().orderBy('name').execute()).map(toFolder);
  }

  async get(id: string): Promise<SmartFolder | undefined> {
    const r = await this.db.selectFrom('smart_folders').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toFolder(r);
  }

  async update(id: string, patch: { name?: string; query?: SmartFolderQuery }): Promise<SmartFolder> {
    const set: Record<string, string> = { updated_at: this.clock().toISOString() };
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.query !== undefined) set.query = toJson(patch.query);
    const res = await this.db.updateTable('smart_folders').set(set).where('id', '=', id).executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) throw new StoreError('STORE_NOT_FOUND', `no smart folder ${id}`);
    return (await this.get(id))!;
  }

  async delete(id: string): Promise<void> {
    const res = await this.db.deleteFrom('smart_folders').where('id', '=', id).executeTakeFirst();
    if (Number(res.numDeletedRows) === 0) throw new StoreError('STORE_NOT_FOUND', `no smart folder ${id}`);
  }
}
