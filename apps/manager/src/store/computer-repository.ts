import type { CloudMetadata, ComputerStatus, HeartbeatRequest, HostFacts, ModuleStatus } from '@palisade/protocol';
import { type Kysely, sql } from 'kysely';
import type { PolicySettings } from '../config/policy-settings-schema.ts';
import { CoalescedLookup } from './coalesced-lookup.ts';
import { type Clock, fromJson, toJson } from './json-column.ts';
import { hashSecret, newId, newSecret, secretMatches } from './secrets.ts';
import { StoreError } from './store-error.ts';
import type { TenantTables } from './tenant-schema.ts';

export interface Computer {
  id: string;
  hostname: string;
  platform: string;
  ips: string[];
  agentVersion: string;
  cloud: CloudMetadata | null;
  tags: Record<string, string>;
  policyId: string | null;
  group: string | null;
  overrides: PolicySettings;
  status: ComputerStatus;
  modules: Record<string, ModuleStatus>;
  spool: { pending: number; dropped: number };
  configHash: string;
  lastHeartbeat: string | null;
  heartbeatSeconds: number;
  activatedAt: string;
  deactivatedAt: string | null;
  /** Rules assigned to this computer by recommendation scans or by hand. */
  ruleAssignments: RuleAssignment[];
}

export interface RuleAssignment {
  module: string;
  ruleId: string;
  source: 'recommendation' | 'manual';
  assignedAt: string;
  /** Why: the advisories and packages that made a scan recommend it. */
  reason: Record<string, unknown>;
}

type Row = TenantTables['computers'];

/**
 * Status is derived when read, so a computer whose agent died shows `offline` without any job
 * having to notice: three missed heartbeats (at least 30 s) make it offline.
 */
export function deriveStatus(
  r: Pick<Row, 'last_heartbeat' | 'heartbeat_seconds' | 'modules' | 'spool' | 'deactivated_at'>,
  now: Date,
): ComputerStatus {
  if (r.deactivated_at) return 'offline';
  if (!r.last_heartbeat) return 'offline';
  const silentMs = now.getTime() - Date.parse(r.last_heartbeat);
  if (silentMs > Math.max(3 * r.heartbeat_seconds, 30) * 1000) return 'offline';
  const modules = fromJson<Record<string, ModuleStatus>>(r.modules, {});
  if (Object.values(modules).some((m) => m.state === 'error')) return 'error';
  const spool = fromJson<{ dropped: number }>(r.spool, { dropped: 0 });
  if (spool.dropped > 0) return 'warning';
  return 'online';
}

export class ComputerRepository {
  constructor(
    private readonly db: Kysely<TenantTables>,
    private readonly tenantId: string,
    private readonly clock: Clock,
  ) {}

  /** The credentials check of concurrent agent requests, read with one query per event-loop turn. */
  private readonly credentialRows = new CoalescedLookup<string, Row>(async (ids) => {
    const rows = await this.db.selectFrom('computers').selectAll().where('id', 'in', ids).execute();
    return new Map(rows.map((r) => [r.id, r]));
  });

  private toComputer = (r: Row): Computer => ({
    id: r.id,
    hostname: r.hostname,
    platform: r.platform,
    ips: fromJson<string[]>(r.ips, []),
    agentVersion: r.agent_version,
    cloud: fromJson<CloudMetadata | null>(r.cloud, null),
    tags: fromJson<Record<string, string>>(r.tags, {}),
    policyId: r.policy_id,
    group: r.group_name,
    overrides: fromJson<PolicySettings>(r.overrides, {}),
    status: deriveStatus(r, this.clock()),
    modules: fromJson<Record<string, ModuleStatus>>(r.modules, {}),
    spool: fromJson(r.spool, { pending: 0, dropped: 0 }),
    configHash: r.config_hash,
    lastHeartbeat: r.last_heartbeat,
    heartbeatSeconds: r.heartbeat_seconds,
    activatedAt: r.activated_at,
    deactivatedAt: r.deactivated_at,
    ruleAssignments: fromJson<RuleAssignment[]>(r.rule_assignments, []),
  });

  /** Creates the computer with its own credentials; the secret is returned once. */
  async activate(
    host: HostFacts,
    opts: { policyId: string | null; group: string | null; heartbeatSeconds: number },
  ): Promise<{ computer: Computer; secret: string }> {
    const id = `${this.tenantId}.${newId()}`;
    const secret = newSecret();
    const now = this.clock().toISOString();
    const row: Row = {
      id,
      hostname: host.hostname,
      platform: host.platform,
      ips: toJson(host.ips),
      agent_version: host.agentVersion,
      cloud: host.cloud ? toJson(host.cloud) : null,
      tags: toJson(host.tags ?? {}),
      policy_id: opts.policyId,
      group_name: opts.group,
      overrides: '{}',
      status: 'online',
      modules: '{}',
      spool: toJson({ pending: 0, dropped: 0 }),
      config_hash: '',
      secret_hash: hashSecret(secret),
      last_heartbeat: now,
      heartbeat_seconds: opts.heartbeatSeconds,
      activated_at: now,
      deactivated_at: null,
      rule_assignments: '[]',
    };
    await this.db.insertInto('computers').values(row).execute();
    return { computer: this.toComputer(row), secret };
  }

  /** The agent's credentials check: only active computers with the right secret pass. */
  async authenticate(id: string, secret: string): Promise<Computer | undefined> {
    const r = await this.credentialRows.load(id);
    if (!r || r.deactivated_at || !secretMatches(secret, r.secret_hash)) return undefined;
    return this.toComputer(r);
  }

  async get(id: string): Promise<Computer | undefined> {
    const r = await this.db.selectFrom('computers').selectAll().where('id', '=', id).executeTakeFirst();
    return r && this.toComputer(r);
  }

  async require(id: string): Promise<Computer> {
    const c = await this.get(id);
    if (!c) throw new StoreError('STORE_NOT_FOUND', `no computer ${id}`);
    return c;
  }

  async list(filter: { policyId?: string; group?: string; includeDeactivated?: boolean } = {}): Promise<Computer[]> {
    let q = this.db.selectFrom('computers').selectAll().orderBy('hostname').orderBy('id');
    if (filter.policyId) q = q.where('policy_id', '=', filter.policyId);
    if (filter.group) q = q.where('group_name', '=', filter.group);
    if (!filter.includeDeactivated) q = q.where('deactivated_at', 'is', null);
    return (await q.execute()).map(this.toComputer);
  }

  async recordHeartbeat(id: string, hb: HeartbeatRequest, heartbeatSeconds: number): Promise<void> {
    await this.recordHeartbeats([{ id, hb, heartbeatSeconds, at: this.clock() }]);
  }

  /**
   * Several heartbeats in one statement per 500 computers: one commit and a handful of round
   * trips instead of one of each per agent. `UPDATE … FROM (VALUES …)` works on PostgreSQL and
   * SQLite alike; VALUES columns are named column1…columnN on both.
   */
  async recordHeartbeats(beats: ReadonlyArray<{ id: string; hb: HeartbeatRequest; heartbeatSeconds: number; at: Date }>): Promise<void> {
    for (let i = 0; i < beats.length; i += 500) {
      const rows = beats
        .slice(i, i + 500)
        .map(
          ({ id, hb, heartbeatSeconds, at }) =>
            sql`(${id}, ${hb.host.hostname}, ${hb.host.platform}, ${toJson(hb.host.ips)}, ${hb.host.agentVersion}, ${hb.host.cloud ? toJson(hb.host.cloud) : null}, ${toJson(hb.modules)}, ${toJson(hb.spool)}, ${hb.configHash}, ${at.toISOString()}, ${String(heartbeatSeconds)})`,
        );
      await sql`
        UPDATE computers SET
          hostname = v.column2, platform = v.column3, ips = v.column4, agent_version = v.column5,
          cloud = COALESCE(v.column6, computers.cloud), modules = v.column7, spool = v.column8,
          config_hash = v.column9, last_heartbeat = v.column10, heartbeat_seconds = CAST(v.column11 AS integer)
        FROM (VALUES ${sql.join(rows)}) AS v
        WHERE computers.id = v.column1`.execute(this.db);
    }
  }

  async update(
    id: string,
    patch: {
      policyId?: string | null;
      group?: string | null;
      overrides?: PolicySettings;
      tags?: Record<string, string>;
      ruleAssignments?: RuleAssignment[];
    },
  ): Promise<Computer> {
    await this.require(id);
    const set: Partial<Row> = {};
    if (patch.policyId !== undefined) set.policy_id = patch.policyId;
    if (patch.group !== undefined) set.group_name = patch.group;
    if (patch.overrides !== undefined) set.overrides = toJson(patch.overrides);
    if (patch.tags !== undefined) set.tags = toJson(patch.tags);
    if (patch.ruleAssignments !== undefined) set.rule_assignments = toJson(patch.ruleAssignments);
    if (Object.keys(set).length) await this.db.updateTable('computers').set(set).where('id', '=', id).execute();
    return this.require(id);
  }

  /** Deactivation revokes the agent's credentials; the record stays for its events' sake. */
  async deactivate(id: string): Promise<void> {
    await this.require(id);
    await this.db
      .updateTable('computers')
      .set({ deactivated_at: this.clock().toISOString() })
      .where('id', '=', id)
      .where('deactivated_at', 'is', null)
      .execute();
  }
}
