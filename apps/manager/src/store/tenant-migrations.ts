import { type Kysely, type Migration, type MigrationProvider, sql } from 'kysely';
import { consoleUsersMigration } from './migrations/0006-console-users.ts';
import { artifactsMigration } from './migrations/0007-artifacts.ts';
import { appControlMigration } from './migrations/0005-app-control.ts';
import { forwarderDeadLettersMigration } from './migrations/0010-forwarder-dead-letters.ts';

/**
 * One migration set for both SQLite and PostgreSQL. Keys are text (UUIDs), times ISO text, JSON
 * text: no autoincrement, so no dialect branch is needed.
 */
const migrations: Record<string, Migration> = {
  '0001-initial': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'text')
        .addColumn('revoked_at', 'text')
        .execute();
      await db.schema
        .createTable('policies')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('parent_id', 'text', (c) => c.references('policies.id'))
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('settings', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('computers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('hostname', 'text', (c) => c.notNull())
        .addColumn('platform', 'text', (c) => c.notNull())
        .addColumn('ips', 'text', (c) => c.notNull())
        .addColumn('agent_version', 'text', (c) => c.notNull())
        .addColumn('cloud', 'text')
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('policy_id', 'text', (c) => c.references('policies.id'))
        .addColumn('group_name', 'text')
        .addColumn('overrides', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('modules', 'text', (c) => c.notNull())
        .addColumn('spool', 'text', (c) => c.notNull())
        .addColumn('config_hash', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('last_heartbeat', 'text')
        .addColumn('heartbeat_seconds', 'integer', (c) => c.notNull())
        .addColumn('activated_at', 'text', (c) => c.notNull())
        .addColumn('deactivated_at', 'text')
        .execute();
      await db.schema
        .createTable('activation_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('policy_id', 'text', (c) => c.references('policies.id'))
        .addColumn('group_name', 'text')
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('max_uses', 'integer')
        .addColumn('uses', 'integer', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('computer_id', 'text', (c) => c.notNull())
        .addColumn('module', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('rule_id', 'text')
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('details', 'text')
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('events_time').on('events').columns(['time', 'id']).execute();
      await db.schema.createIndex('events_computer_time').on('events').columns(['computer_id', 'time']).execute();
      await db.schema.createIndex('events_module_time').on('events').columns(['module', 'time']).execute();
      await db.schema
        .createTable('commands')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('computer_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('args', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('delivered_at', 'text')
        .addColumn('completed_at', 'text')
        .addColumn('result', 'text')
        .addColumn('error', 'text')
        .execute();
      await db.schema.createIndex('commands_pending').on('commands').columns(['computer_id', 'status']).execute();
      await db.schema
        .createTable('smart_folders')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('query', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('event_tasks')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('trigger', 'text', (c) => c.notNull())
        .addColumn('conditions', 'text', (c) => c.notNull())
        .addColumn('actions', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('scheduled_tasks')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('cron', 'text', (c) => c.notNull())
        .addColumn('timezone', 'text', (c) => c.notNull())
        .addColumn('job_kind', 'text', (c) => c.notNull())
        .addColumn('job_args', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('next_run_at', 'text')
        .addColumn('last_run_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('jobs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('args', 'text', (c) => c.notNull())
        .addColumn('dedupe_key', 'text', (c) => c.unique())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('run_at', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('lease_owner', 'text')
        .addColumn('lease_expires_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text')
        .addColumn('result', 'text')
        .addColumn('error', 'text')
        .execute();
      await db.schema.createIndex('jobs_due').on('jobs').columns(['status', 'run_at']).execute();
      await db.schema
        .createTable('audit_log')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('details', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_time').on('audit_log').columns(['time']).execute();
      await db.schema
        .createTable('schema_info')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
      await sql`select 1`.execute(db);
    },
  },
  '0002-recommendations': {
    async up(db: Kysely<any>) {
      await db.schema
        .alterTable('computers')
        .addColumn('rule_assignments', 'text', (c) => c.notNull().defaultTo('[]'))
        .execute();
      await db.schema
        .createTable('computer_inventory')
        .addColumn('computer_id', 'text', (c) => c.primaryKey())
        .addColumn('collected_at', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('inventory', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('recommendation_scans')
        .addColumn('computer_id', 'text', (c) => c.primaryKey())
        .addColumn('scanned_at', 'text', (c) => c.notNull())
        .addColumn('result', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0003-forwarders': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('forwarders')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('config', 'text', (c) => c.notNull())
        // Kept apart from `config` so that no read path can return a secret by accident.
        .addColumn('secrets', 'text', (c) => c.notNull())
        .addColumn('filter', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('lease_owner', 'text')
        .addColumn('lease_expires_at', 'text')
        .addColumn('next_attempt_at', 'text')
        .addColumn('failures', 'integer', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('last_success_at', 'text')
        .execute();
      await db.schema
        .createTable('forwarder_outbox')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('forwarder_id', 'text', (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('position', 'text', (c) => c.notNull())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('enqueued_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('forwarder_outbox_order').on('forwarder_outbox').columns(['forwarder_id', 'position']).execute();
      await db.schema
        .createIndex('forwarder_outbox_event')
        .on('forwarder_outbox')
        .columns(['forwarder_id', 'event_id'])
        .unique()
        .execute();
    },
  },
  '0004-playbooks-cloud': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('playbooks')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('trigger', 'text', (c) => c.notNull())
        .addColumn('actions', 'text', (c) => c.notNull())
        // Webhook secrets, kept apart so no read path returns them.
        .addColumn('secrets', 'text', (c) => c.notNull())
        .addColumn('safeguards', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('playbook_hits')
        .addColumn('playbook_id', 'text', (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('trigger_key', 'text', (c) => c.notNull())
        .addColumn('time', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('playbook_hits_pk', ['playbook_id', 'event_id'])
        .execute();
      await db.schema.createIndex('playbook_hits_window').on('playbook_hits').columns(['playbook_id', 'trigger_key', 'time']).execute();
      await db.schema
        .createTable('playbook_actions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('playbook_id', 'text', (c) => c.notNull())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('trigger_key', 'text', (c) => c.notNull())
        .addColumn('action_index', 'integer', (c) => c.notNull())
        .addColumn('action_type', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('inputs', 'text', (c) => c.notNull())
        .addColumn('result', 'text', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('computer_id', 'text')
        .addColumn('event_ids', 'text', (c) => c.notNull())
        .addColumn('undoable', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text')
        .addColumn('undone_at', 'text')
        .addColumn('undo_result', 'text')
        .execute();
      await db.schema.createIndex('playbook_actions_time').on('playbook_actions').columns(['playbook_id', 'created_at']).execute();
      await db.schema
        .createIndex('playbook_actions_key')
        .on('playbook_actions')
        .columns(['playbook_id', 'trigger_key', 'created_at'])
        .execute();
      await db.schema.createIndex('playbook_actions_expiry').on('playbook_actions').columns(['status', 'expires_at']).execute();
      await db.schema
        .createTable('cloud_accounts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('provider', 'text', (c) => c.notNull())
        .addColumn('auth_type', 'text', (c) => c.notNull())
        .addColumn('aws_account_id', 'text')
        .addColumn('regions', 'text', (c) => c.notNull())
        .addColumn('role_arn', 'text')
        .addColumn('access_key_id', 'text')
        // Encrypted (AES-256-GCM with the manager's secret key); never returned by the API.
        .addColumn('secrets', 'text', (c) => c.notNull())
        .addColumn('sync_interval_seconds', 'integer', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('last_sync_at', 'text')
        .addColumn('last_sync_status', 'text')
        .addColumn('last_sync_error', 'text')
        .addColumn('last_sync_summary', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('cloud_instances')
        .addColumn('instance_id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('region', 'text', (c) => c.notNull())
        .addColumn('computer_id', 'text')
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('asg_name', 'text')
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('first_seen_at', 'text', (c) => c.notNull())
        .addColumn('last_seen_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('cloud_instances_account').on('cloud_instances').columns(['account_id', 'region']).execute();
      await db.schema.createIndex('cloud_instances_computer').on('cloud_instances').columns(['computer_id']).execute();
      await db.schema
        .createTable('cloud_asgs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('region', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('first_seen_at', 'text', (c) => c.notNull())
        .addColumn('last_seen_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('cloud_asgs_account').on('cloud_asgs').columns(['account_id', 'region']).execute();
    },
  },
  '0007-artifacts': artifactsMigration,
  '0006-console-users': consoleUsersMigration,
  '0005-app-control': appControlMigration,
  '0010-forwarder-dead-letters': forwarderDeadLettersMigration,
};

const directoryMigrations: Record<string, Migration> = {
  '0001-tenants': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('tenants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0002-vulnerability-data': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('advisories')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('modified', 'text', (c) => c.notNull())
        .addColumn('record', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('vuln_imports')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('added', 'integer', (c) => c.notNull())
        .addColumn('updated', 'integer', (c) => c.notNull())
        .addColumn('unchanged', 'integer', (c) => c.notNull())
        .addColumn('skipped', 'integer', (c) => c.notNull())
        .addColumn('diagnostics', 'text', (c) => c.notNull())
        .execute();
    },
  },
};

function provider(set: Record<string, Migration>): MigrationProvider {
  return { getMigrations: async () => set };
}

export const tenantMigrations = provider(migrations);
export const directoryMigrationsProvider = provider(directoryMigrations);
