import type { Kysely } from 'kysely';
import type { PolicySettings } from '../config/policy-settings-schema.ts';
import { type Clock, fromJson, toJson } from './json-column.ts';
import { newId } from './secrets.ts';
import { StoreError } from './store-error.ts';
import type { TenantTables } from './tenant-schema.ts';

export interface Policy {
  id: string;
  name: string;
  parentId: string | null;
  description: string;
  settings: PolicySettings;
  createdAt: string;
  updatedAt: string;
}

type Row = TenantTables['policies'];
const toPolicy = (r: Row): Policy => ({
  id: r.id,
  name: r.name,
  parentId: r.parent_id,
  description: r.description,
  settings: fromJson<PolicySettings>(r.settings, {}),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_UNIQUE' || /UNIQUE constraint/.test(e.message ?? '');
}

export class PolicyRepository {
  constructor(
    private readonly db: Kysely<TenantTables>,
    private readonly clock: Clock,
  ) {}

  async create(input: { name: string; parentId?: string | null; description?: string; settings?: PolicySettings }): Promise<Policy> {
    if (input.parentId) await this.require(input.parentId, 'parentId');
    const now = this.clock().toISOString();
    const row: Row = {
      id: newId(),
      name: input.name,
      parent_id: input.parentId ?? null,
      description: input.description ?? '',
      settings: toJson(input.settings ?? {}),
      created_at: now,
      updated_at: now,
    };
    try {
      await this.db.insertInto('policies').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new StoreError('STORE_CONFLICT', `a policy named ${JSON.stringify(input.name)} exists`, 'name');
      throw err;
    }
    return toPolicy(row);
  }

  async list(): Promise<Policy[]> {
    return (await this.db.selectFrom('policies').selectAll().orderBy('name').execute()).map(toPolicy);
  }

  async get(id: string): Promise<Policy | undefined> {
    const r = await this.db.selectFrom('policies').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toPolicy(r);
  }

  async findByName(name: string): Promise<Policy | undefined> {
    const r = await this.db.selectFrom('policies').selectAll().where('name', '=', name).executeTakeFirst();
    return r && toPolicy(r);
  }

  async require(id: string, field = 'id'): Promise<Policy> {
    const p = await this.get(id);
    if (!p) throw new StoreError(field === 'id' ? 'STORE_NOT_FOUND' : 'STORE_INVALID_REFERENCE', `no policy ${id}`, field);
    return p;
  }

  /** The policy and its ancestors, root first: the order in which settings are layered. */
  async chain(id: string): Promise<Policy[]> {
    const out: Policy[] = [];
    const seen = new Set<string>();
    let cur: string | null = id;
    while (cur) {
      if (seen.has(cur)) throw new StoreError('STORE_POLICY_CYCLE', `policy ${id} has a cycle in its parents`);
      seen.add(cur);
      const p = await this.require(cur);
      out.unshift(p);
      cur = p.parentId;
    }
    return out;
  }

  async update(
    id: string,
    patch: { name?: string; description?: string; parentId?: string | null; settings?: PolicySettings },
  ): Promise<Policy> {
    await this.require(id);
    if (patch.parentId) {
      // Moving a policy under one of its own descendants would make its chain endless.
      const chain = await this.chain(patch.parentId);
      if (chain.some((p) => p.id === id)) {
        throw new StoreError('STORE_POLICY_CYCLE', 'a policy cannot be moved under itself or its descendants', 'parentId');
      }
    }
    const set: Partial<Row> = { updated_at: this.clock().toISOString() };
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.description !== undefined) set.description = patch.description;
    if (patch.parentId !== undefined) set.parent_id = patch.parentId;
    if (patch.settings !== undefined) set.settings = toJson(patch.settings);
    try {
      await this.db.updateTable('policies').set(set).where('id', '=', id).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new StoreError('STORE_CONFLICT', `a policy named ${JSON.stringify(patch.name)} exists`, 'name');
      throw err;
    }
    return (await this.get(id))!;
  }

  async delete(id: string): Promise<void> {
    await this.require(id);
    const child = await this.db.selectFrom('policies').select('id').where('parent_id', '=', id).executeTakeFirst();
    const computer = await this.db.selectFrom('computers').select('id').where('policy_id', '=', id).executeTakeFirst();
    const token = await this.db.selectFrom('activation_tokens').select('id').where('policy_id', '=', id).executeTakeFirst();
    if (child || computer || token) {
      throw new StoreError('STORE_IN_USE', 'the policy still has child policies, computers or activation tokens');
    }
    await this.db.deleteFrom('policies').where('id', '=', id).execute();
  }

  /** Ids of the policy and every policy below it, for "which computers does this change reach". */
  async descendantsOf(id: string): Promise<string[]> {
    const all = await this.db.selectFrom('policies').select(['id', 'parent_id']).execute();
    const out = [id];
    for (let i = 0; i < out.length; i++) for (const p of all) if (p.parent_id === out[i]) out.push(p.id);
    return out;
  }
}

export { isUniqueViolation };
