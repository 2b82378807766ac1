import { createHash } from 'node:crypto';
import type { InventoryReport } from '@palisade/protocol';
import type { Kysely } from 'kysely';
import { type Clock, fromJson, toJson } from './json-column.ts';
import type { TenantTables } from './tenant-schema.ts';

export interface StoredInventory {
  computerId: string;
  collectedAt: string;
  receivedAt: string;
  /** Content hash of the package list: a scan is due only when it changes. */
  hash: string;
  inventory: InventoryReport['inventory'];
}

/** The latest inventory of each computer, and the latest recommendation scan result. */
export class InventoryRepository {
  constructor(
    private readonly db: Kysely<TenantTables>,
    private readonly clock: Clock,
  ) {}

  static hashOf(inventory: InventoryReport['inventory']): string {
    const key = inventory.items
      .map((i) => `${i.ecosystem}\u0000${i.name}\u0000${i.version}\u0000${i.sourceName ?? ''}\u0000${i.sourceVersion ?? ''}`)
      .sort()
      .join('\n');
    const ports = inventory.ports
      .map((p) => `${p.protocol}:${p.port}:${p.process ?? ''}`)
      .sort()
      .join(',');
    return createHash('sha256').update(key).update('\n').update(ports).digest('hex').slice(0, 32);
  }

  /** Stores the report; returns whether the package list changed since the previous one. */
  async save(computerId: string, report: InventoryReport): Promise<{ hash: string; changed: boolean }> {
    const hash = InventoryRepository.hashOf(report.inventory);
    const prev = await this.db.selectFrom('computer_inventory').select('hash').where('computer_id', '=', computerId).executeTakeFirst();
    const row = {
      computer_id: computerId,
      collected_at: report.collectedAt,
      received_at: this.clock().toISOString(),
      hash,
      inventory: toJson(report.inventory),
    };
    await this.db
      .insertInto('computer_inventory')
      .values(row)
      .onConflict((oc) =>
        oc
          .column('computer_id')
          .doUpdateSet({ collected_at: row.collected_at, received_at: row.received_at, hash, inventory: row.inventory }),
      )
      .execute();
    return { hash, changed: prev?.hash !== hash };
  }

  async get(computerId: string): Promise<StoredInventory | undefined> {
    const r = await this.db.selectFrom('computer_inventory').selectAll().where('computer_id', '=', computerId).executeTakeFirst();
    return (
      r && {
        computerId: r.computer_id,
        collectedAt: r.collected_at,
        receivedAt: r.received_at,
        hash: r.hash,
        inventory: fromJson(r.inventory, { items: [], ports: [] }),
      }
    );
  }

  async saveScan(computerId: string, result: unknown): Promise<void> {
    const row = { computer_id: computerId, scanned_at: this.clock().toISOString(), result: toJson(result) };
    await this.db
      .insertInto('recommendation_scans')
      .values(row)
      .onConflict((oc) => oc.column('computer_id').doUpdateSet({ scanned_at: row.scanned_at, result: row.result }))
      .execute();
  }

  async latestScan<T>(computerId: string): Promise<{ scannedAt: string; result: T } | undefined> {
    const r = await this.db.selectFrom('recommendation_scans').selectAll().where('computer_id', '=', computerId).executeTakeFirst();
    return r && { scannedAt: r.scanned_at, result: fromJson<T>(r.result, {} as T) };
  }
}
