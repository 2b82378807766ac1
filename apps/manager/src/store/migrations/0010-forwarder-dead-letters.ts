import type { Kysely, Migration } from 'kysely';

/**
 * Dead letters of event forwarders: events a receiver refused for good (a webhook's 400, SNS
 * `InvalidParameter`), or that ran out of attempts or age under the forwarder's dead-letter
 * policy. They leave the outbox so the events behind them keep flowing in order, and wait here
 * with the last error until an operator retries or discards them.
 */
export const forwarderDeadLettersMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('forwarder_dead_letters')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('forwarder_id', 'text', (c) => c.notNull())
      .addColumn('event_id', 'text', (c) => c.notNull())
      // The outbox position it had: a retry puts it back there, ahead of what came later.
      .addColumn('position', 'text', (c) => c.notNull())
      .addColumn('event', 'text', (c) => c.notNull())
      .addColumn('enqueued_at', 'text', (c) => c.notNull())
      .addColumn('dead_at', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      // `refused` | `max-attempts` | `max-age`
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('last_error', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('forwarder_dead_letters_order')
      .on('forwarder_dead_letters')
      .columns(['forwarder_id', 'position'])
      .execute();
    await db.schema
      .createIndex('forwarder_dead_letters_event')
      .on('forwarder_dead_letters')
      .columns(['forwarder_id', 'event_id'])
      .unique()
      .execute();
    // Failed delivery attempts per queued event, for the `maxAttempts` policy.
    await db.schema
      .alterTable('forwarder_outbox')
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    // `{"maxAttempts": n | null, "maxAgeSeconds": n | null}`; null column = neither.
    await db.schema.alterTable('forwarders').addColumn('dead_letter_policy', 'text').execute();
  },
};
