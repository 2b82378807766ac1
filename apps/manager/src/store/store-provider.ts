import type { Kysely } from 'kysely';
import { openDirectoryDatabase, openTenantDatabase } from './database-factory.ts';
import { type Clock, systemClock } from './json-column.ts';
import { TENANT_ID_PATTERN } from './secrets.ts';
import { StoreError } from './store-error.ts';
import type { StoreLocation } from './store-location.ts';
import type { DirectoryTables } from './tenant-schema.ts';
import { TenantStore } from './tenant-store.ts';
import { VulnDataRepository } from './vuln-data-repository.ts';

export const PRIMARY_TENANT = 'primary';

export interface Tenant {
  id: string;
  name: string;
  createdAt: string;
  status: string;
}

/**
 * The manager's way into storage: the tenant directory, and one TenantStore per tenant, opened on
 * first use and kept open.
 */
export class StoreProvider {
  private readonly stores = new Map<string, Promise<TenantStore>>();
  /** Vulnerability data is global: it lives in the directory database. */
  readonly vulnData: VulnDataRepository;

  private constructor(
    readonly location: StoreLocation,
    private readonly directory: Kysely<DirectoryTables>,
    readonly clock: Clock,
  ) {
    this.vulnData = new VulnDataRepository(directory, clock);
  }

  static async open(location: StoreLocation, clock: Clock = systemClock): Promise<StoreProvider> {
    const { db } = await openDirectoryDatabase(location);
    const provider = new StoreProvider(location, db, clock);
    // The primary tenant always exists; creating it is idempotent so several nodes may race.
    await db
      .insertInto('tenants')
      .values({ id: PRIMARY_TENANT, name: 'Primary', created_at: clock().toISOString(), status: 'active' })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    await provider.tenant(PRIMARY_TENANT);
    return provider;
  }

  async listTenants(): Promise<Tenant[]> {
    const rows = await this.directory.selectFrom('tenants').selectAll().orderBy('created_at').execute();
    return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at, status: r.status }));
  }

  async getTenant(id: string): Promise<Tenant | undefined> {
    const r = await this.directory.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
    return r && { id: r.id, name: r.name, createdAt: r.created_at, status: r.status };
  }

  async createTenant(id: string, name: string): Promise<Tenant> {
    if (!TENANT_ID_PATTERN.test(id)) {
      throw new StoreError('STORE_INVALID_REFERENCE', 'tenant id must match [a-z][a-z0-9-]{0,30}', 'id');
    }
    const existing = await this.getTenant(id);
    if (existing) throw new StoreError('STORE_CONFLICT', `tenant ${id} exists`, 'id');
    // The database first: a tenant row never points at a database that is not there.
    await this.tenant(id, true);
    const tenant = { id, name, created_at: this.clock().toISOString(), status: 'active' };
    await this.directory.insertInto('tenants').values(tenant).execute();
    return { id, name, createdAt: tenant.created_at, status: tenant.status };
  }

  /** The tenant's store, or undefined for an unknown tenant (unless `create`). */
  async tenant(id: string, create = false): Promise<TenantStore | undefined> {
    let p = this.stores.get(id);
    if (!p) {
      if (!create && id !== PRIMARY_TENANT && !(await this.getTenant(id))) return undefined;
      p = openTenantDatabase(this.location, id).then(({ db, dialect }) => new TenantStore(id, db, dialect, this.clock));
      this.stores.set(id, p);
      p.catch(() => this.stores.delete(id));
    }
    return p;
  }

  async requireTenant(id: string): Promise<TenantStore> {
    const t = await this.tenant(id);
    if (!t) throw new StoreError('STORE_NOT_FOUND', `no tenant ${id}`);
    return t;
  }

  async close(): Promise<void> {
    const all = await Promise.allSettled([...this.stores.values()]);
    for (const s of all) if (s.status === 'fulfilled') await s.value.close();
    this.stores.clear();
    await this.directory.destroy();
  }
}
