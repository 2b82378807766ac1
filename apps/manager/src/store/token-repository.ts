import { type Kysely, sql } from 'kysely';
import type { Clock } from './json-column.ts';
import { formatCredential, hashSecret, newId, newSecret, secretMatches } from './secrets.ts';
import type { TenantTables } from './tenant-schema.ts';

export interface ActivationToken {
  id: string;
  description: string;
  policyId: string | null;
  group: string | null;
  expiresAt: string;
  maxUses: number | null;
  uses: number;
  revokedAt: string | null;
  createdAt: string;
}

export type TokenRefusal = 'TOKEN_INVALID' | 'TOKEN_EXPIRED' | 'TOKEN_REVOKED' | 'TOKEN_USED_UP';

type Row = TenantTables['activation_tokens'];
const toToken = (r: Row): ActivationToken => ({
  id: r.id,
  description: r.description,
  policyId: r.policy_id,
  group: r.group_name,
  expiresAt: r.expires_at,
  maxUses: r.max_uses,
  uses: r.uses,
  revokedAt: r.revoked_at,
  createdAt: r.created_at,
});

export class TokenRepository {
  constructor(
    private readonly db: Kysely<TenantTables>,
    private readonly tenantId: string,
    private readonly clock: Clock,
  ) {}

  async create(input: {
    description?: string;
    policyId?: string | null;
    group?: string | null;
    ttlSeconds: number;
    maxUses?: number | null;
  }): Promise<{ token: ActivationToken; value: string }> {
    const now = this.clock();
    const row: Row = {
      id: newId(),
      secret_hash: '',
      description: input.description ?? '',
      policy_id: input.policyId ?? null,
      group_name: input.group ?? null,
      expires_at: new Date(now.getTime() + input.ttlSeconds * 1000).toISOString(),
      max_uses: input.maxUses ?? null,
      uses: 0,
      revoked_at: null,
      created_at: now.toISOString(),
    };
    const secret = newSecret();
    row.secret_hash = hashSecret(secret);
    await this.db.insertInto('activation_tokens').values(row).execute();
    return { token: toToken(row), value: formatCredential('pat', this.tenantId, row.id, secret) };
  }

  async list(): Promise<ActivationToken[]> {
    return (await this.db.selectFrom('activation_tokens').selectAll().orderBy('created_at').execute()).map(toToken);
  }

  async get(id: string): Promise<ActivationToken | undefined> {
    const r = await this.db.selectFrom('activation_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toToken(r);
  }

  async revoke(id: string): Promise<boolean> {
    const res = await this.db
      .updateTable('activation_tokens')
      .set({ revoked_at: this.clock().toISOString() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  /**
   * Uses the token once. The check and the count happen in one UPDATE so that two agents racing
   * for the last use of a token cannot both get it.
   */
  async consume(id: string, secret: string): Promise<{ ok: true; token: ActivationToken } | { ok: false; reason: TokenRefusal }> {
    const r = await this.db.selectFrom('activation_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r || !secretMatches(secret, r.secret_hash)) return { ok: false, reason: 'TOKEN_INVALID' };
    const now = this.clock().toISOString();
    const res = await this.db
      .updateTable('activation_tokens')
      .set({ uses: sql`uses + 1` })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .where((eb) => eb.or([eb('max_uses', 'is', null), eb('uses', '<', eb.ref('max_uses'))]))
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 1) return { ok: true, token: { ...toToken(r), uses: r.uses + 1 } };
    const after = (await this.db.selectFrom('activation_tokens').selectAll().where('id', '=', id).executeTakeFirst())!;
    if (after.revoked_at) return { ok: false, reason: 'TOKEN_REVOKED' };
    if (after.expires_at <= now) return { ok: false, reason: 'TOKEN_EXPIRED' };
    return { ok: false, reason: 'TOKEN_USED_UP' };
  }
}
