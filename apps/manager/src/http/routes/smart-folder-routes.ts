import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { invalidCidrPath, type SmartFolderQuery, SmartFolderQuerySchema } from '../../queries/smart-folder-query.ts';
import { computersMatching } from '../../services/smart-folder-members.ts';
import { ApiError, notFound } from '../api-error.ts';
import { requireRole } from '../request-auth.ts';
import { deleteRoute } from './delete-route.ts';
import { IdParams, type IdParamsT, Name } from './common-schemas.ts';

function checkQuery(query: SmartFolderQuery | undefined): void {
  const bad = query && invalidCidrPath(query);
  if (bad) throw new ApiError(400, 'API_VALIDATION', `${bad} is not an IP address or CIDR`, bad);
}

export async function smartFolderRoutes(app: FastifyInstance): Promise<void> {
  const tags = ['smart-folders'];
  const Body = Type.Object({ name: Name, query: SmartFolderQuerySchema }, { additionalProperties: false });

  app.get('/api/v1/smart-folders', { schema: { tags, summary: 'List smart folders' } }, async (request) => {
    const user = requireRole(request, 'auditor');
    return { smartFolders: await user.store.smartFolders.list() };
  });

  app.post(
    '/api/v1/smart-folders',
    { schema: { tags, summary: 'Create a smart folder (a saved query over computers)', body: Body } },
    async (request, reply) => {
      const user = requireRole(request, 'operator');
      const { name, query } = request.body as { name: string; query: SmartFolderQuery };
      checkQuery(query);
      const f = await user.store.smartFolders.create(name, query);
      await user.store.audit.record(user.actor, 'smart-folder.create', `smart-folder:${f.id}`, { name });
      reply.status(201);
      return f;
    },
  );

  app.get('/api/v1/smart-folders/:id', { schema: { tags, summary: 'Get a smart folder', params: IdParams } }, async (request) => {
    const user = requireRole(request, 'auditor');
    const f = await user.store.smartFolders.get((request.params as IdParamsT).id);
    if (!f) throw notFound('smart folder');
    return f;
  });

  app.patch(
    '/api/v1/smart-folders/:id',
    { schema: { tags, summary: 'Change a smart folder', params: IdParams, body: Type.Partial(Body) } },
    async (request) => {
      const user = requireRole(request, 'operator');
      const { id } = request.params as IdParamsT;
      const patch = request.body as { name?: string; query?: SmartFolderQuery };
      checkQuery(patch.query);
      const f = await user.store.smartFolders.update(id, patch);
      await user.store.audit.record(user.actor, 'smart-folder.update', `smart-folder:${id}`, patch);
      return f;
    },
  );

  deleteRoute(app, {
    url: '/api/v1/smart-folders/:id',
    tags: tags,
    summary: 'Delete a smart folder',
    kind: 'smart-folder',
    remove: (store, id) => store.smartFolders.delete(id),
  });

  app.get(
    '/api/v1/smart-folders/:id/computers',
    { schema: { tags, summary: 'The computers that match the folder now', params: IdParams } },
    async (request) => {
      const user = requireRole(request, 'auditor');
      const f = await user.store.smartFolders.get((request.params as IdParamsT).id);
      if (!f) throw notFound('smart folder');
      return { computers: await computersMatching(user.store, f.query, await user.store.computers.list()) };
    },
  );
}
