import type { AgentCommand, CommandResult } from '@palisade/protocol';
import type { Kysely } from 'kysely';
import { type Clock, fromJson, toJson } from './json-column.ts';
import { newId } from './secrets.ts';
import type { TenantTables } from './tenant-schema.ts';

export interface StoredCommand extends AgentCommand {
  computerId: string;
  status: 'queued' | 'delivered' | 'succeeded' | 'failed';
  deliveredAt: string | null;
  completedAt: string | null;
  result: Record<string, unknown> | null;
  error: string | null;
}

type Row = TenantTables['commands'];
const toCommand = (r: Row): StoredCommand => ({
  id: r.id,
  computerId: r.computer_id,
  kind: r.kind,
  args: fromJson(r.args, {}),
  createdAt: r.created_at,
  status: r.status as StoredCommand['status'],
  deliveredAt: r.delivered_at,
  completedAt: r.completed_at,
  result: fromJson(r.result, null),
  error: r.error,
});

export class CommandRepository {
  constructor(
    private readonly db: Kysely<TenantTables>,
    private readonly clock: Clock,
  ) {}

  async enqueue(computerId: string, kind: string, args: Record<string, unknown> = {}): Promise<StoredCommand> {
    const row: Row = {
      id: newId(),
      computer_id: computerId,
      kind,
      args: toJson(args),
      status: 'queued',
      created_at: this.clock().toISOString(),
      delivered_at: null,
      completed_at: null,
      result: null,
      error: null,
    };
    await this.db.insertInto('commands').values(row).execute();
    return toCommand(row);
  }

  /**
   * Hands the queued commands to the agent and marks them delivered. The status condition in the
   * UPDATE makes sure two polls (e.g. on two manager nodes) never deliver the same command twice.
   */
  async takeQueued(computerId: string): Promise<AgentCommand[]> {
    const queued = await this.db
      .selectFrom('commands')
      .selectAll()
      .where('computer_id', '=', computerId)
      .where('status', '=', 'queued')
      .orderBy('created_at')
      .limit(50)
      .execute();
    const out: AgentCommand[] = [];
    for (const r of queued) {
      const res = await this.db
        .updateTable('commands')
        .set({ status: 'delivered', delivered_at: this.clock().toISOString() })
        .where('id', '=', r.id)
        .where('status', '=', 'queued')
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 1) out.push({ id: r.id, kind: r.kind, args: fromJson(r.args, {}), createdAt: r.created_at });
    }
    return out;
  }

  async complete(computerId: string, id: string, result: CommandResult): Promise<boolean> {
    const res = await this.db
      .updateTable('commands')
      .set({
        status: result.status,
        completed_at: this.clock().toISOString(),
        result: result.result ? toJson(result.result) : null,
        error: result.error ?? null,
      })
      .where('id', '=', id)
      .where('computer_id', '=', computerId)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async get(id: string): Promise<StoredCommand | undefined> {
    const r = await this.db.selectFrom('commands').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toCommand(r);
  }

  async listForComputer(computerId: string, limit = 50): Promise<StoredCommand[]> {
    const rows = await this.db
      .selectFrom('commands')
      .selectAll()
      .where('computer_id', '=', computerId)
      .orderBy('created_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toCommand);
  }
}
