import type { Kysely } from 'kysely';
import type { Clock } from './json-column.ts';
import { formatCredential, hashSecret, newId, newSecret } from './secrets.ts';
import type { TenantTables } from './tenant-schema.ts';

export const ROLES = ['admin', 'operator', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export interface ApiKey {
  id: string;
  name: string;
  role: Role;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

type Row = TenantTables['api_keys'];
const toApiKey = (r: Row): ApiKey => ({
  id: r.id,
  name: r.name,
  role: r.role as Role,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

export class ApiKeyRepository {
  constructor(
    private readonly db: Kysely<TenantTables>,
    private readonly tenantId: string,
    private readonly clock: Clock,
  ) {}

  /** Returns the key's value once; only its hash is kept. */
  async create(name: string, role: Role): Promise<{ key: ApiKey; secret: string }> {
    const id = newId();
    const secret = newSecret();
    const row: Row = {
      id,
      name,
      role,
      secret_hash: hashSecret(secret),
      created_at: this.clock().toISOString(),
      last_used_at: null,
      revoked_at: null,
    };
    await this.db.insertInto('api_keys').values(row).execute();
    return { key: toApiKey(row), secret: formatCredential('psk', this.tenantId, id, secret) };
  }

  async list(): Promise<ApiKey[]> {
    return (await this.db.selectFrom('api_keys').selectAll().orderBy('created_at').execute()).map(toApiKey);
  }

  async get(id: string): Promise<ApiKey | undefined> {
    const r = await this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toApiKey(r);
  }

  /** The stored hash, for authentication only. */
  async secretHash(id: string): Promise<{ key: ApiKey; hash: string } | undefined> {
    const r = await this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    return r && { key: toApiKey(r), hash: r.secret_hash };
  }

  async touch(id: string): Promise<void> {
    await this.db.updateTable('api_keys').set({ last_used_at: this.clock().toISOString() }).where('id', '=', id).execute();
  }

  async revoke(id: string): Promise<boolean> {
    const res = await this.db
      .updateTable('api_keys')
      .set({ revoked_at: this.clock().toISOString() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }
}
