import { EVENT_SOURCES, SEVERITIES } from '@palisade/protocol';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { decodeCursor } from '../../store/event-repository.ts';
import { ApiError, notFound } from '../api-error.ts';
import { requireRole } from '../request-auth.ts';
import { IdParams, type IdParamsT } from './common-schemas.ts';

export async function eventRoutes(app: FastifyInstance): Promise<void> {
  const tags = ['events'];

  app.get(
    '/api/v1/events',
    {
      schema: {
        tags,
        summary: 'Query events, newest first, with cursor paging',
        querystring: Type.Object({
          computerId: Type.Optional(Type.String()),
          module: Type.Optional(Type.Enum(EVENT_SOURCES)),
          type: Type.Optional(Type.String()),
          severity: Type.Optional(Type.Array(Type.Enum(SEVERITIES))),
          ruleId: Type.Optional(Type.String()),
          since: Type.Optional(Type.String({ format: 'date-time' })),
          until: Type.Optional(Type.String({ format: 'date-time' })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
          cursor: Type.Optional(Type.String()),
        }),
      },
    },
    async (request) => {
      const user = requireRole(request, 'auditor');
      const q = request.query as { limit: number; cursor?: string } & Record<string, unknown>;
      if (q.cursor && !decodeCursor(q.cursor)) throw new ApiError(400, 'API_VALIDATION', 'cursor is not valid', 'querystring:/cursor');
      return user.store.events.query({ ...(q as object), limit: q.limit ?? 100 });
    },
  );

  app.get(
    '/api/v1/events/counts',
    {
      schema: {
        tags,
        summary: 'Events per module per hour (UTC) since a time (default: 24 hours ago)',
        querystring: Type.Object({ since: Type.Optional(Type.String({ format: 'date-time' })) }),
      },
    },
    async (request) => {
      const user = requireRole(request, 'auditor');
      const since = (request.query as { since?: string }).since ?? new Date(Date.now() - 86400_000).toISOString();
      return { since, counts: await user.store.events.countsPerHour(since) };
    },
  );

  app.get(
    '/api/v1/events/summary',
    {
      schema: {
        tags,
        summary:
          'Dashboard aggregates over a time window (default: the last 24 hours), computed over every event of the window: totals, blocked vs detected, top computers, rules and CVEs, events per module per hour',
        querystring: Type.Object({
          since: Type.Optional(Type.String({ format: 'date-time' })),
          until: Type.Optional(Type.String({ format: 'date-time' })),
          top: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 5 })),
        }),
      },
    },
    async (request) => {
      const user = requireRole(request, 'auditor');
      const q = request.query as { since?: string; until?: string; top?: number };
      const until = q.until ?? new Date().toISOString();
      const since = q.since ?? new Date(Date.parse(until) - 86400_000).toISOString();
      if (Date.parse(since) > Date.parse(until)) throw new ApiError(400, 'API_VALIDATION', 'since is after until', 'querystring:/since');
      return user.store.events.summary(user.store.dialect, { since, until, top: q.top ?? 5 });
    },
  );

  app.get('/api/v1/events/:id', { schema: { tags, summary: 'One event', params: IdParams } }, async (request) => {
    const user = requireRole(request, 'auditor');
    const e = await user.store.events.get((request.params as IdParamsT).id);
    if (!e) throw notFound('event');
    return e;
  });

  app.get(
    '/api/v1/audit',
    {
      schema: {
        tags: ['audit'],
        summary: 'Audit log: who changed what',
        querystring: Type.Object({
          target: Type.Optional(Type.String()),
          action: Type.Optional(Type.String()),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
        }),
      },
    },
    async (request) => {
      const user = requireRole(request, 'auditor');
      return { entries: await user.store.audit.list(request.query as never) };
    },
  );
}
