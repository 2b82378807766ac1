import { nextRun } from '../http/routes/task-routes.ts';
import type { TenantStore } from '../store/tenant-store.ts';

/**
 * What every tenant starts with: a weekly recommendation scan of all its computers (Sunday 03:00
 * UTC), so virtual patches follow the software even when nobody asks. Idempotent.
 */
export async function ensureTenantDefaults(store: TenantStore): Promise<void> {
  const tasks = await store.tasks.listScheduledTasks();
  if (tasks.some((t) => t.jobKind === 'recommendation-scan')) return;
  const cron = '0 3 * * 0';
  await store.tasks.createScheduledTask({
    name: 'Weekly recommendation scan',
    cron,
    timezone: 'UTC',
    jobKind: 'recommendation-scan',
    jobArgs: {},
    enabled: true,
    nextRunAt: nextRun(cron, 'UTC', new Date()),
  });
}
