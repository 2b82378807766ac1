import { Cron } from 'croner';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import {
  EVENT_TASK_TRIGGERS,
  type EventTaskAction,
  EventTaskActionSchema,
  type EventTaskCondition,
  EventTaskConditionSchema,
  type EventTaskTrigger,
  invalidRegexIndex,
} from '../../queries/event-task-rules.ts';
import { ApiError, notFound } from '../api-error.ts';
import { requireRole } from '../request-auth.ts';
import { deleteRoute } from './delete-route.ts';
import { IdParams, type IdParamsT, Name } from './common-schemas.ts';

/** The next time a cron expression fires in a time zone, or an API error naming the bad field. */
export function nextRun(cron: string, timezone: string, after: Date): string | null {
  let job: Cron;
  try {
    job = new Cron(cron, { timezone, paused: true });
  } catch (err) {
    const field = /timezone/i.test(String(err)) ? '/timezone' : '/cron';
    throw new ApiError(400, 'API_VALIDATION', `${field.slice(1)}: ${(err as Error).message}`, field);
  }
  const next = job.nextRun(after);
  job.stop();
  return next ? next.toISOString() : null;
}

export async function taskRoutes(app: FastifyInstance): Promise<void> {
  app.get('/api/v1/event-tasks', { schema: { tags: ['tasks'], summary: 'List event-based tasks' } }, async (request) => {
    const user = requireRole(request, 'auditor');
    return { eventTasks: await user.store.tasks.listEventTasks() };
  });

  app.post(
    '/api/v1/event-tasks',
    {
      schema: {
        tags: ['tasks'],
        summary: 'Create an event-based task: on a trigger, if every condition matches, run the actions',
        body: Type.Object(
          {
            name: Name,
            trigger: Type.Enum(EVENT_TASK_TRIGGERS),
            conditions: Type.Array(EventTaskConditionSchema, { maxItems: 20 }),
            actions: Type.Array(EventTaskActionSchema, { minItems: 1, maxItems: 10 }),
            enabled: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const user = requireRole(request, 'operator');
      const body = request.body as {
        name: string;
        trigger: EventTaskTrigger;
        conditions: EventTaskCondition[];
        actions: EventTaskAction[];
        enabled?: boolean;
      };
      const bad = invalidRegexIndex(body.conditions);
      if (bad >= 0)
        throw new ApiError(400, 'API_VALIDATION', `conditions/${bad}/regex is not a valid regular expression`, `/conditions/${bad}/regex`);
      for (const [i, a] of body.actions.entries()) {
        if (a.type === 'assign-policy' && !(await user.store.policies.get(a.policyId))) {
          throw new ApiError(400, 'API_INVALID_REFERENCE', `no policy ${a.policyId}`, `/actions/${i}/policyId`);
        }
      }
      const task = await user.store.tasks.createEventTask({ ...body, enabled: body.enabled ?? true });
      await user.store.audit.record(user.actor, 'event-task.create', `event-task:${task.id}`, { name: task.name });
      reply.status(201);
      return task;
    },
  );

  deleteRoute(app, {
    url: '/api/v1/event-tasks/:id',
    tags: ['tasks'],
    summary: 'Delete an event-based task',
    kind: 'event-task',
    remove: (store, id) => store.tasks.deleteEventTask(id),
  });

  app.get('/api/v1/scheduled-tasks', { schema: { tags: ['tasks'], summary: 'List scheduled tasks' } }, async (request) => {
    const user = requireRole(request, 'auditor');
    return { scheduledTasks: await user.store.tasks.listScheduledTasks() };
  });

  app.post(
    '/api/v1/scheduled-tasks',
    {
      schema: {
        tags: ['tasks'],
        summary: 'Create a scheduled task: a cron expression (in a time zone) that enqueues a job',
        body: Type.Object(
          {
            name: Name,
            cron: Type.String({ minLength: 9, maxLength: 100 }),
            timezone: Type.Optional(Type.String({ maxLength: 64 })),
            jobKind: Type.String({ pattern: '^[a-z][a-z0-9-]{0,60}$' }),
            jobArgs: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
            enabled: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const user = requireRole(request, 'operator');
      const body = request.body as {
        name: string;
        cron: string;
        timezone?: string;
        jobKind: string;
        jobArgs?: Record<string, unknown>;
        enabled?: boolean;
      };
      const timezone = body.timezone ?? 'UTC';
      const task = await user.store.tasks.createScheduledTask({
        name: body.name,
        cron: body.cron,
        timezone,
        jobKind: body.jobKind,
        jobArgs: body.jobArgs ?? {},
        enabled: body.enabled ?? true,
        nextRunAt: nextRun(body.cron, timezone, new Date()),
      });
      await user.store.audit.record(user.actor, 'scheduled-task.create', `scheduled-task:${task.id}`, { name: task.name, cron: task.cron });
      reply.status(201);
      return task;
    },
  );

  deleteRoute(app, {
    url: '/api/v1/scheduled-tasks/:id',
    tags: ['tasks'],
    summary: 'Delete a scheduled task',
    kind: 'scheduled-task',
    remove: (store, id) => store.tasks.deleteScheduledTask(id),
  });

  app.get(
    '/api/v1/jobs',
    {
      schema: {
        tags: ['tasks'],
        summary: 'Recent jobs',
        querystring: Type.Object({
          status: Type.Optional(Type.Enum(['queued', 'running', 'succeeded', 'failed'] as const)),
          kind: Type.Optional(Type.String()),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
        }),
      },
    },
    async (request) => {
      const user = requireRole(request, 'auditor');
      return { jobs: await user.store.jobs.list(request.query as never) };
    },
  );

  app.get('/api/v1/jobs/:id', { schema: { tags: ['tasks'], summary: 'One job', params: IdParams } }, async (request) => {
    const user = requireRole(request, 'auditor');
    const job = await user.store.jobs.get((request.params as IdParamsT).id);
    if (!job) throw notFound('job');
    return job;
  });
}
