import type { FastifyInstance } from 'fastify';
import type { TenantStore } from '../../store/tenant-store.ts';
import { requireRole } from '../request-auth.ts';
import { IdParams, type IdParamsT } from './common-schemas.ts';

/**
 * `DELETE <url>/:id` for an operator: removes the object through `remove` (which raises
 * STORE_NOT_FOUND for an unknown id), audits `<kind>.delete`, answers 204.
 */
export function deleteRoute(
  app: FastifyInstance,
  opts: { url: string; tags: string[]; summary: string; kind: string; remove(store: TenantStore, id: string): Promise<void> },
): void {
  app.delete(opts.url, { schema: { tags: opts.tags, summary: opts.summary, params: IdParams } }, async (request, reply) => {
    const user = requireRole(request, 'operator');
    const { id } = request.params as IdParamsT;
    await opts.remove(user.store, id);
    await user.store.audit.record(user.actor, `${opts.kind}.delete`, `${opts.kind}:${id}`);
    reply.status(204);
  });
}
