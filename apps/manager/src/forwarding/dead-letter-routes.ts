import type { FastifyInstance } from 'fastify';
import { Gauge } from 'prom-client';
import { Type } from 'typebox';
import { notFound } from '../http/api-error.ts';
import type { ManagerContext } from '../http/manager-context.ts';
import { requireRole } from '../http/request-auth.ts';
import { IdParams, type IdParamsT } from '../http/routes/common-schemas.ts';
import type { StoreProvider } from '../store/store-provider.ts';
import type { TenantStore } from '../store/tenant-store.ts';
import { type DeadLetterPolicy, DeadLetterPolicySchema, type Forwarder } from './forwarder-config.ts';

export const DEAD_LETTER_METRIC = 'palisade_forwarder_dead_letters';

const ListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    /** The last id of the previous page. */
    after: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  },
  { additionalProperties: false },
);
/** Which dead letters: the given ids, or all of the forwarder's when `ids` is absent. */
const Selection = Type.Object(
  { ids: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, maxItems: 10_000 })) },
  { additionalProperties: false },
);

/** A forwarder by id, or by name (as the CLI names them). */
async function forwarderOf(store: TenantStore, ref: string): Promise<Forwarder> {
  const f = (await store.forwarders.get(ref)) ?? (await store.forwarders.list()).find((x) => x.name === ref);
  if (!f) throw notFound('forwarder');
  return f;
}

/**
 * `palisade_forwarder_dead_letters{tenant, forwarder}`: read from the database at scrape time, so
 * every manager node reports the same numbers and nothing has to be kept in step.
 */
export function registerDeadLetterMetric(metrics: Pick<ManagerContext['metrics'], 'registry'>, stores: StoreProvider): void {
  if (metrics.registry.getSingleMetric(DEAD_LETTER_METRIC)) return;
  new Gauge({
    name: DEAD_LETTER_METRIC,
    help: 'Events in a forwarder’s dead letters (refused by the receiver, or past its attempts or age limit)',
    labelNames: ['tenant', 'forwarder'],
    registers: [metrics.registry],
    async collect() {
      this.reset();
      for (const tenant of await stores.listTenants()) {
        const store = await stores.tenant(tenant.id);
        if (!store) continue;
        for (const c of await store.forwarders.deadLetterCounts()) this.set({ tenant: tenant.id, forwarder: c.name }, c.count);
      }
    },
  });
}

/** Dead letters of a forwarder: list, retry, discard; and the policy that sends events there. */
export async function deadLetterRoutes(api: FastifyInstance, ctx: Pick<ManagerContext, 'stores' | 'metrics'>): Promise<void> {
  registerDeadLetterMetric(ctx.metrics, ctx.stores);
  const tags = ['forwarders'];

  api.get(
    '/api/v1/forwarders/:id/dead-letters',
    {
      schema: {
        tags,
        summary: 'Events the forwarder gave up on, oldest first, with the last error (paged with `after`)',
        params: IdParams,
        querystring: ListQuery,
      },
    },
    async (request) => {
      const user = requireRole(request, 'auditor');
      const f = await forwarderOf(user.store, (request.params as IdParamsT).id);
      const q = request.query as { limit?: number; after?: string };
      const limit = q.limit ?? 100;
      const deadLetters = await user.store.forwarders.listDeadLetters(f.id, { limit, ...(q.after ? { after: q.after } : {}) });
      return {
        forwarderId: f.id,
        total: await user.store.forwarders.countDeadLetters(f.id),
        deadLetters,
        next: deadLetters.length === limit ? deadLetters[deadLetters.length - 1]!.id : null,
      };
    },
  );

  api.post(
    '/api/v1/forwarders/:id/dead-letters/retry',
    {
      schema: {
        tags,
        summary: 'Put dead letters (all, or `ids`) back at the head of the outbox: they are sent next, in their old order',
        params: IdParams,
        body: Selection,
      },
    },
    async (request) => {
      const user = requireRole(request, 'operator');
      const f = await forwarderOf(user.store, (request.params as IdParamsT).id);
      const { ids } = request.body as { ids?: string[] };
      const retried = await user.store.forwarders.retryDeadLetters(f.id, ids);
      await user.store.audit.record(user.actor, 'forwarder.dead-letters.retry', `forwarder:${f.id}`, { retried });
      return { forwarderId: f.id, retried };
    },
  );

  api.post(
    '/api/v1/forwarders/:id/dead-letters/discard',
    {
      schema: { tags, summary: 'Drop dead letters (all, or `ids`) for good', params: IdParams, body: Selection },
    },
    async (request) => {
      const user = requireRole(request, 'admin');
      const f = await forwarderOf(user.store, (request.params as IdParamsT).id);
      const { ids } = request.body as { ids?: string[] };
      const discarded = await user.store.forwarders.discardDeadLetters(f.id, ids);
      await user.store.audit.record(user.actor, 'forwarder.dead-letters.discard', `forwarder:${f.id}`, { discarded });
      return { forwarderId: f.id, discarded };
    },
  );

  api.put(
    '/api/v1/forwarders/:id/dead-letter-policy',
    {
      schema: {
        tags,
        summary:
          'When undelivered events go to the dead letters besides a refusal: after maxAttempts failures, or maxAgeSeconds in the queue (null: never)',
        params: IdParams,
        body: DeadLetterPolicySchema,
      },
    },
    async (request) => {
      const user = requireRole(request, 'admin');
      const f = await forwarderOf(user.store, (request.params as IdParamsT).id);
      const policy = request.body as DeadLetterPolicy;
      const out = await user.store.forwarders.setDeadLetterPolicy(f.id, policy);
      await user.store.audit.record(user.actor, 'forwarder.dead-letter-policy', `forwarder:${f.id}`, { ...policy });
      return out;
    },
  );
}
