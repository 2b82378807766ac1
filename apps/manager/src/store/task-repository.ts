import type { Kysely } from 'kysely';
import type { EventTaskAction, EventTaskCondition, EventTaskTrigger } from '../queries/event-task-rules.ts';
import { type Clock, fromJson, toJson } from './json-column.ts';
import { newId } from './secrets.ts';
import { StoreError } from './store-error.ts';
import type { TenantTables } from './tenant-schema.ts';

export interface EventTask {
  id: string;
  name: string;
  trigger: EventTaskTrigger;
  conditions: EventTaskCondition[];
  actions: EventTaskAction[];
  enabled: boolean;
  createdAt: string;
}

export interface ScheduledTask {
  id: string;
  name: string;
  cron: string;
  timezone: string;
  jobKind: string;
  jobArgs: Record<string, unknown>;
  enabled: boolean;
  nextRunAt: string | null;
  lastRunAt: string | null;
  createdAt: string;
}

const toEventTask = (r: TenantTables['event_tasks']): EventTask => ({
  id: r.id,
  name: r.name,
  trigger: r.trigger as EventTaskTrigger,
  conditions: fromJson(r.conditions, []),
  actions: fromJson(r.actions, []),
  enabled: Boolean(r.enabled),
  createdAt: r.created_at,
});

const toScheduledTask = (r: TenantTables['scheduled_tasks']): ScheduledTask => ({
  id: r.id,
  name: r.name,
  cron: r.cron,
  timezone: r.timezone,
  jobKind: r.job_kind,
  jobArgs: fromJson(r.job_args, {}),
  enabled: Boolean(r.enabled),
  nextRunAt: r.next_run_at,
  lastRunAt: r.last_run_at,
  createdAt: r.created_at,
});

export class TaskRepository {
  constructor(
    private readonly db: Kysely<TenantTables>,
    private readonly clock: Clock,
  ) {}

  async createEventTask(t: Omit<EventTask, 'id' | 'createdAt'>): Promise<EventTask> {
    const row = {
      id: newId(),
      name: t.name,
      trigger: t.trigger,
      conditions: toJson(t.conditions),
      actions: toJson(t.actions),
      enabled: t.enabled ? 1 : 0,
      created_at: this.clock().toISOString(),
    };
    await this.db.insertInto('event_tasks').values(row).execute();
    return toEventTask(row);
  }

  async listEventTasks(trigger?: EventTaskTrigger): Promise<EventTask[]> {
    let q = this.db.selectFrom('event_tasks').selectAll();
    if (trigger) q = q.where('trigger', '=', trigger);
    return (await q.orderBy('created_at').execute()).map(toEventTask);
  }

  async getEventTask(id: string): Promise<EventTask | undefined> {
    const r = await this.db.selectFrom('event_tasks').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toEventTask(r);
  }

  async deleteEventTask(id: string): Promise<void> {
    const res = await this.db.deleteFrom('event_tasks').where('id', '=', id).executeTakeFirst();
    if (Number(res.numDeletedRows) === 0) throw new StoreError('STORE_NOT_FOUND', `no event task ${id}`);
  }

  async createScheduledTask(t: Omit<ScheduledTask, 'id' | 'createdAt' | 'lastRunAt'>): Promise<ScheduledTask> {
    const row = {
      id: newId(),
      name: t.name,
      cron: t.cron,
      timezone: t.timezone,
      job_kind: t.jobKind,
      job_args: toJson(t.jobArgs),
      enabled: t.enabled ? 1 : 0,
      next_run_at: t.nextRunAt,
      last_run_at: null,
      created_at: this.clock().toISOString(),
    };
    await this.db.insertInto('scheduled_tasks').values(row).execute();
    return toScheduledTask(row);
  }

  async listScheduledTasks(): Promise<ScheduledTask[]> {
    return (await this.db.selectFrom('scheduled_tasks').selectAll().orderBy('created_at').execute()).map(toScheduledTask);
  }

  async getScheduledTask(id: string): Promise<ScheduledTask | undefined> {
    const r = await this.db.selectFrom('scheduled_tasks').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toScheduledTask(r);
  }

  async deleteScheduledTask(id: string): Promise<void> {
    const res = await this.db.deleteFrom('scheduled_tasks').where('id', '=', id).executeTakeFirst();
    if (Number(res.numDeletedRows) === 0) throw new StoreError('STORE_NOT_FOUND', `no scheduled task ${id}`);
  }

  /**
   * Moves a task's next run forward, but only if nobody else did: with several manager nodes the
   * one whose UPDATE matches the old value is the one that enqueues this tick.
   */
  async advanceSchedule(id: string, expectedNextRunAt: string | null, nextRunAt: string | null, ranAt: string): Promise<boolean> {
    let q = this.db.updateTable('scheduled_tasks').set({ next_run_at: nextRunAt, last_run_at: ranAt }).where('id', '=', id);
    q = expectedNextRunAt === null ? q.where('next_run_at', 'is', null) : q.where('next_run_at', '=', expectedNextRunAt);
    return Number((await q.executeTakeFirst()).numUpdatedRows) === 1;
  }
}
