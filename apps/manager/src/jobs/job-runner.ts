import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { nextRun } from '../http/routes/task-routes.ts';
import type { StoreProvider } from '../store/store-provider.ts';
import type { TenantStore } from '../store/tenant-store.ts';
import type { RecommendationService } from '../recommendations/recommendation-service.ts';
import { JOB_HANDLERS, type JobHandler } from './job-handlers.ts';

export interface JobRunnerOptions {
  pollMs?: number;
  leaseSeconds?: number;
  handlers?: Record<string, JobHandler>;
  notify(computerId: string): void;
  recommendations?: RecommendationService;
  log?: FastifyBaseLogger;
}

/**
 * Runs on every manager node: turns due schedule ticks into jobs (one node wins each tick) and
 * claims jobs under a lease (one node runs each job).
 */
export class JobRunner {
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly stores: StoreProvider,
    private readonly opts: JobRunnerOptions,
  ) {}

  start(): void {
    const loop = async () => {
      if (this.stopped) return;
      this.running = this.tick().catch((err) => this.opts.log?.error({ err }, 'job runner tick failed'));
      await this.running;
      if (!this.stopped) this.timer = setTimeout(loop, this.opts.pollMs ?? 1000);
    };
    this.timer = setTimeout(loop, 10);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  async tick(): Promise<void> {
    for (const tenant of await this.stores.listTenants()) {
      const store = await this.stores.tenant(tenant.id);
      if (!store) continue;
      await this.enqueueDueSchedules(store);
      await this.runDueJobs(store);
    }
  }

  private async enqueueDueSchedules(store: TenantStore): Promise<void> {
    const now = this.stores.clock();
    for (const task of await store.tasks.listScheduledTasks()) {
      if (!task.enabled || !task.nextRunAt || task.nextRunAt > now.toISOString()) continue;
      const next = nextRun(task.cron, task.timezone, now);
      // Only the node whose compare-and-set succeeds enqueues; the dedupe key backs it up.
      if (!(await store.tasks.advanceSchedule(task.id, task.nextRunAt, next, now.toISOString()))) continue;
      await store.jobs.enqueue(
        task.jobKind,
        { ...task.jobArgs, scheduledTaskId: task.id },
        { dedupeKey: `schedule:${task.id}:${task.nextRunAt}` },
      );
    }
  }

  private async runDueJobs(store: TenantStore): Promise<void> {
    const handlers = { ...JOB_HANDLERS, ...this.opts.handlers };
    for (let i = 0; i < 20 && !this.stopped; i++) {
      const job = await store.jobs.claim(this.owner, this.opts.leaseSeconds ?? 60);
      if (!job) return;
      const handler = handlers[job.kind];
      try {
        if (!handler) throw new Error(`no handler for job kind ${job.kind}`);
        await store.jobs.succeed(
          job.id,
          this.owner,
          (await handler(job, store, {
            notify: this.opts.notify,
            ...(this.opts.recommendations ? { recommendations: this.opts.recommendations } : {}),
          })) ?? null,
        );
      } catch (err) {
        await store.jobs.fail(job.id, this.owner, (err as Error).message);
      }
    }
  }
}
