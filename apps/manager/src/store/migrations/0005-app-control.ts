import type { Kysely, Migration } from 'kysely';

/**
 * Application control on the manager: rulesets (shared per tenant, local per computer), the
 * tenant's global block list, and drift records filled from the agents' app-control events.
 */
export const appControlMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('app_control_rulesets')
      // Shared: the name an operator chose (`web-tier`); local: `computer:<computer id>`. It is
      // also the ruleset id the agent sees, so an event's ruleId leads back here.
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('computer_id', 'text')
      .addColumn('rules', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('app_control_rulesets_computer').on('app_control_rulesets').columns(['computer_id']).execute();
    await db.schema
      .createTable('app_control_global_block')
      .addColumn('sha256', 'text', (c) => c.primaryKey())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('app_control_drift')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('computer_id', 'text', (c) => c.notNull())
      .addColumn('path', 'text', (c) => c.notNull())
      .addColumn('sha256', 'text', (c) => c.notNull())
      .addColumn('access', 'text', (c) => c.notNull())
      .addColumn('size', 'integer')
      .addColumn('package', 'text')
      .addColumn('verdict', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('blocked', 'integer', (c) => c.notNull())
      .addColumn('reports', 'integer', (c) => c.notNull())
      .addColumn('first_seen', 'text', (c) => c.notNull())
      .addColumn('last_seen', 'text', (c) => c.notNull())
      .addColumn('process', 'text')
      .addColumn('user_info', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('decision', 'text')
      .addColumn('decided_by', 'text')
      .addColumn('decided_at', 'text')
      .execute();
    await db.schema
      .createIndex('app_control_drift_key')
      .on('app_control_drift')
      .columns(['computer_id', 'sha256', 'path', 'access'])
      .unique()
      .execute();
    await db.schema.createIndex('app_control_drift_list').on('app_control_drift').columns(['status', 'last_seen']).execute();
    // Events already turned into drift: intake is idempotent by event id, so several manager
    // nodes (or a retry) never count one report twice.
    await db.schema
      .createTable('app_control_drift_events')
      .addColumn('event_id', 'text', (c) => c.primaryKey())
      .addColumn('received_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('app_control_drift_events_received').on('app_control_drift_events').columns(['received_at']).execute();
    // Intake reads app-control events by arrival time.
    await db.schema.createIndex('events_module_received').on('events').columns(['module', 'received_at']).execute();
  },
};
