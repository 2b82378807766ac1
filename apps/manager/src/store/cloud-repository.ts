import type { CloudMetadata, HostFacts } from '@palisade/protocol';
import type { Kysely } from 'kysely';
import { type Clock, fromJson, toJson } from './json-column.ts';
import { isUniqueViolation } from './playbook-repository.ts';
import { hashSecret, newId, newSecret } from './secrets.ts';
import { StoreError } from './store-error.ts';
import type { TenantTables } from './tenant-schema.ts';

export const CLOUD_AUTH_TYPES = ['access-keys', 'assume-role', 'instance-role'] as const;
export type CloudAuthType = (typeof CLOUD_AUTH_TYPES)[number];

/** A cloud account as the API shows it: no secret, only whether there is one. */
export interface CloudAccount {
  id: string;
  name: string;
  provider: 'aws';
  authType: CloudAuthType;
  /** The 12-digit AWS account, learnt at the first sync (STS GetCallerIdentity) if not given. */
  awsAccountId: string | null;
  regions: string[];
  roleArn: string | null;
  accessKeyId: string | null;
  hasSecret: boolean;
  syncIntervalSeconds: number;
  enabled: boolean;
  lastSyncAt: string | null;
  lastSyncStatus: 'ok' | 'failed' | null;
  lastSyncError: string | null;
  lastSyncSummary: Record<string, unknown> | null;
  createdAt: string;
  updatedAt: string;
}

export interface CloudInstanceRecord {
  instanceId: string;
  accountId: string;
  region: string;
  computerId: string | null;
  state: string;
  asgName: string | null;
  data: Record<string, unknown>;
  firstSeenAt: string;
  lastSeenAt: string;
}

export interface CloudAsgRecord {
  id: string;
  accountId: string;
  region: string;
  name: string;
  data: Record<string, unknown>;
  firstSeenAt: string;
  lastSeenAt: string;
}

type AccountRow = TenantTables['cloud_accounts'];

const toAccount = (r: AccountRow): CloudAccount => ({
  id: r.id,
  name: r.name,
  provider: 'aws',
  authType: r.auth_type as CloudAuthType,
  awsAccountId: r.aws_account_id,
  regions: fromJson<string[]>(r.regions, []),
  roleArn: r.role_arn,
  accessKeyId: r.access_key_id,
  hasSecret: r.secrets !== '',
  syncIntervalSeconds: r.sync_interval_seconds,
  enabled: r.enabled === 1,
  lastSyncAt: r.last_sync_at,
  lastSyncStatus: r.last_sync_status as CloudAccount['lastSyncStatus'],
  lastSyncError: r.last_sync_error,
  lastSyncSummary: fromJson<Record<string, unknown> | null>(r.last_sync_summary, null),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toInstance = (r: TenantTables['cloud_instances']): CloudInstanceRecord => ({
  instanceId: r.instance_id,
  accountId: r.account_id,
  region: r.region,
  computerId: r.computer_id,
  state: r.state,
  asgName: r.asg_name,
  data: fromJson(r.data, {}),
  firstSeenAt: r.first_seen_at,
  lastSeenAt: r.last_seen_at,
});

const toAsg = (r: TenantTables['cloud_asgs']): CloudAsgRecord => ({
  id: r.id,
  accountId: r.account_id,
  region: r.region,
  name: r.name,
  data: fromJson(r.data, {}),
  firstSeenAt: r.first_seen_at,
  lastSeenAt: r.last_seen_at,
});

export interface CloudAccountInput {
  name: string;
  authType: CloudAuthType;
  awsAccountId?: string | null;
  regions: string[];
  roleArn?: string | null;
  accessKeyId?: string | null;
  /** Already encrypted by the caller (SecretBox); '' when there is no secret. */
  encryptedSecrets: string;
  syncIntervalSeconds: number;
  enabled: boolean;
}

/** Cloud accounts and what their syncs found. */
export class CloudRepository {
  constructor(
    private readonly db: Kysely<TenantTables>,
    private readonly clock: Clock,
  ) {}

  async listAccounts(): Promise<CloudAccount[]> {
    return (await this.db.selectFrom('cloud_accounts').selectAll().orderBy('name').execute()).map(toAccount);
  }

  async account(idOrName: string): Promise<CloudAccount | undefined> {
    const r = await this.db
      .selectFrom('cloud_accounts')
      .selectAll()
      .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
      .executeTakeFirst();
    return r && toAccount(r);
  }

  async accountByAwsId(awsAccountId: string): Promise<CloudAccount | undefined> {
    const r = await this.db
      .selectFrom('cloud_accounts')
      .selectAll()
      .where('aws_account_id', '=', awsAccountId)
      .orderBy('name')
      .executeTakeFirst();
    return r && toAccount(r);
  }

  async encryptedSecrets(id: string): Promise<string> {
    const r = await this.db.selectFrom('cloud_accounts').select('secrets').where('id', '=', id).executeTakeFirst();
    return r?.secrets ?? '';
  }

  async createAccount(input: CloudAccountInput): Promise<CloudAccount> {
    const now = this.clock().toISOString();
    const row: AccountRow = {
      id: newId(),
      name: input.name,
      provider: 'aws',
      auth_type: input.authType,
      aws_account_id: input.awsAccountId ?? null,
      regions: toJson(input.regions),
      role_arn: input.roleArn ?? null,
      access_key_id: input.accessKeyId ?? null,
      secrets: input.encryptedSecrets,
      sync_interval_seconds: input.syncIntervalSeconds,
      enabled: input.enabled ? 1 : 0,
      last_sync_at: null,
      last_sync_status: null,
      last_sync_error: null,
      last_sync_summary: null,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.db.insertInto('cloud_accounts').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err))
        throw new StoreError('STORE_CONFLICT', `a cloud account named ${JSON.stringify(input.name)} exists`, 'name');
      throw err;
    }
    return toAccount(row);
  }

  async updateAccount(id: string, patch: Partial<CloudAccountInput>): Promise<CloudAccount> {
    const set: Partial<AccountRow> = { updated_at: this.clock().toISOString() };
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.regions !== undefined) set.regions = toJson(patch.regions);
    if (patch.awsAccountId !== undefined) set.aws_account_id = patch.awsAccountId;
    if (patch.roleArn !== undefined) set.role_arn = patch.roleArn;
    if (patch.accessKeyId !== undefined) set.access_key_id = patch.accessKeyId;
    if (patch.encryptedSecrets !== undefined) set.secrets = patch.encryptedSecrets;
    if (patch.syncIntervalSeconds !== undefined) set.sync_interval_seconds = patch.syncIntervalSeconds;
    if (patch.enabled !== undefined) set.enabled = patch.enabled ? 1 : 0;
    const res = await this.db.updateTable('cloud_accounts').set(set).where('id', '=', id).executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) throw new StoreError('STORE_NOT_FOUND', `no cloud account ${id}`);
    return (await this.account(id))!;
  }

  async recordSync(id: string, status: 'ok' | 'failed', error: string | null, summary: Record<string, unknown> | null): Promise<void> {
    await this.db
      .updateTable('cloud_accounts')
      .set({
        last_sync_at: this.clock().toISOString(),
        last_sync_status: status,
        last_sync_error: error,
        last_sync_summary: summary && toJson(summary),
      })
      .where('id', '=', id)
      .execute();
  }

  /** The account goes; what it discovered stays as history (computers are retired, not deleted). */
  async deleteAccount(id: string): Promise<void> {
    const res = await this.db.deleteFrom('cloud_accounts').where('id', '=', id).executeTakeFirst();
    if (Number(res.numDeletedRows) === 0) throw new StoreError('STORE_NOT_FOUND', `no cloud account ${id}`);
    await this.db.deleteFrom('cloud_asgs').where('account_id', '=', id).execute();
  }

  async instances(filter: { accountId?: string; region?: string } = {}): Promise<CloudInstanceRecord[]> {
    let q = this.db.selectFrom('cloud_instances').selectAll().orderBy('instance_id');
    if (filter.accountId) q = q.where('account_id', '=', filter.accountId);
    if (filter.region) q = q.where('region', '=', filter.region);
    return (await q.execute()).map(toInstance);
  }

  async instance(instanceId: string): Promise<CloudInstanceRecord | undefined> {
    const r = await this.db.selectFrom('cloud_instances').selectAll().where('instance_id', '=', instanceId).executeTakeFirst();
    return r && toInstance(r);
  }

  async instanceOfComputer(computerId: string): Promise<CloudInstanceRecord | undefined> {
    const r = await this.db.selectFrom('cloud_instances').selectAll().where('computer_id', '=', computerId).executeTakeFirst();
    return r && toInstance(r);
  }

  async saveInstance(rec: Omit<CloudInstanceRecord, 'firstSeenAt' | 'lastSeenAt'>): Promise<void> {
    const now = this.clock().toISOString();
    const values = {
      account_id: rec.accountId,
      region: rec.region,
      computer_id: rec.computerId,
      state: rec.state,
      asg_name: rec.asgName,
      data: toJson(rec.data),
      last_seen_at: now,
    };
    await this.db
      .insertInto('cloud_instances')
      .values({ instance_id: rec.instanceId, first_seen_at: now, ...values })
      .onConflict((oc) => oc.column('instance_id').doUpdateSet(values))
      .execute();
  }

  async setInstanceState(instanceId: string, state: string): Promise<void> {
    await this.db.updateTable('cloud_instances').set({ state }).where('instance_id', '=', instanceId).execute();
  }

  async asgs(filter: { accountId?: string; region?: string } = {}): Promise<CloudAsgRecord[]> {
    let q = this.db.selectFrom('cloud_asgs').selectAll().orderBy('name');
    if (filter.accountId) q = q.where('account_id', '=', filter.accountId);
    if (filter.region) q = q.where('region', '=', filter.region);
    return (await q.execute()).map(toAsg);
  }

  async saveAsg(accountId: string, region: string, name: string, data: Record<string, unknown>): Promise<void> {
    const now = this.clock().toISOString();
    await this.db
      .insertInto('cloud_asgs')
      .values({
        id: `${accountId}:${region}:${name}`,
        account_id: accountId,
        region,
        name,
        data: toJson(data),
        first_seen_at: now,
        last_seen_at: now,
      })
      .onConflict((oc) => oc.column('id').doUpdateSet({ data: toJson(data), last_seen_at: now }))
      .execute();
  }

  async deleteAsg(id: string): Promise<void> {
    await this.db.deleteFrom('cloud_asgs').where('id', '=', id).execute();
  }

  /**
   * A computer for an instance whose agent has not activated yet: no usable credentials (the
   * secret is thrown away), no heartbeat, so it shows offline until an agent adopts it.
   */
  async createDiscoveredComputer(
    tenantId: string,
    d: { hostname: string; platform: string; ips: string[]; cloud: CloudMetadata; tags: Record<string, string> },
  ): Promise<string> {
    const id = `${tenantId}.${newId()}`;
    const now = this.clock().toISOString();
    await this.db
      .insertInto('computers')
      .values({
        id,
        hostname: d.hostname,
        platform: d.platform,
        ips: toJson(d.ips),
        agent_version: '',
        cloud: toJson(d.cloud),
        tags: toJson(d.tags),
        policy_id: null,
        group_name: null,
        overrides: '{}',
        status: 'offline',
        modules: '{}',
        spool: toJson({ pending: 0, dropped: 0 }),
        config_hash: '',
        secret_hash: hashSecret(newSecret()),
        last_heartbeat: null,
        heartbeat_seconds: 60,
        activated_at: now,
        deactivated_at: null,
        rule_assignments: '[]',
      })
      .execute();
    return id;
  }

  /** What the latest sync says about an instance: its cloud metadata and its EC2 tags (merged over). */
  async refreshComputerCloud(
    computerId: string,
    cloud: CloudMetadata,
    ec2Tags: Record<string, string>,
    ips: string[] | null,
  ): Promise<void> {
    const r = await this.db.selectFrom('computers').select(['tags', 'agent_version']).where('id', '=', computerId).executeTakeFirst();
    if (!r) return;
    const set: Partial<TenantTables['computers']> = {
      cloud: toJson(cloud),
      tags: toJson({ ...fromJson<Record<string, string>>(r.tags, {}), ...ec2Tags }),
    };
    // An agent reports its own addresses; only a computer without one takes them from EC2.
    if (ips && r.agent_version === '') set.ips = toJson(ips);
    await this.db.updateTable('computers').set(set).where('id', '=', computerId).execute();
  }

  /**
   * Binds an activating agent to the computer cloud sync created for its instance: the computer
   * keeps its id, tags and history, and gets the agent's facts and fresh credentials.
   */
  async adoptComputer(
    computerId: string,
    host: HostFacts,
    opts: { policyId: string | null; group: string | null; heartbeatSeconds: number },
  ): Promise<string> {
    const secret = newSecret();
    const now = this.clock().toISOString();
    const r = await this.db
      .selectFrom('computers')
      .select(['tags', 'cloud', 'policy_id', 'group_name'])
      .where('id', '=', computerId)
      .executeTakeFirst();
    const cloud = { ...fromJson<CloudMetadata | null>(r?.cloud, null), ...host.cloud } as CloudMetadata;
    await this.db
      .updateTable('computers')
      .set({
        hostname: host.hostname,
        platform: host.platform,
        ips: toJson(host.ips),
        agent_version: host.agentVersion,
        cloud: toJson(cloud),
        tags: toJson({ ...fromJson<Record<string, string>>(r?.tags, {}), ...(host.tags ?? {}) }),
        // An event task that ran on discovery may have chosen the policy already: the token's wins only if it names one.
        policy_id: opts.policyId ?? r?.policy_id ?? null,
        group_name: opts.group ?? r?.group_name ?? null,
        secret_hash: hashSecret(secret),
        last_heartbeat: now,
        heartbeat_seconds: opts.heartbeatSeconds,
        activated_at: now,
      })
      .where('id', '=', computerId)
      .execute();
    return secret;
  }
}
