import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { parseAllowList } from '../../playbooks/attacker-address.ts';
import { PlaybookError, type PlaybookEngine } from '../../playbooks/playbook-engine.ts';
import { PLAYBOOK_ACTION_STATUSES, type PlaybookInput, PlaybookInputSchema } from '../../playbooks/playbook-schema.ts';
import type { TenantStore } from '../../store/tenant-store.ts';
import { ApiError, notFound } from '../api-error.ts';
import { requireRole } from '../request-auth.ts';
import { IdParams, type IdParamsT } from './common-schemas.ts';

/** Checks what the schema cannot: allow-list syntax and that referenced objects exist. */
async function checkInput(store: TenantStore, input: Partial<PlaybookInput>): Promise<void> {
  const bad = input.safeguards && parseAllowList(input.safeguards.allowList ?? []).invalid;
  if (bad?.length) throw new ApiError(400, 'PLAYBOOK_INVALID', `${bad[0]} is not an IP address or CIDR`, '/safeguards/allowList');
  for (const [i, a] of (input.actions ?? []).entries()) {
    if (a.type === 'aws-waf-block-ip' && !(await store.cloud.account(a.cloudAccount)))
      throw new ApiError(400, 'PLAYBOOK_INVALID', `no cloud account ${a.cloudAccount}`, `/actions/${i}/cloudAccount`);
    if (a.type === 'aws-isolate-instance' && a.cloudAccount && !(await store.cloud.account(a.cloudAccount)))
      throw new ApiError(400, 'PLAYBOOK_INVALID', `no cloud account ${a.cloudAccount}`, `/actions/${i}/cloudAccount`);
    const t = 'targets' in a ? a.targets : undefined;
    if (t && typeof t === 'object' && 'smartFolderId' in t && !(await store.smartFolders.get(t.smartFolderId)))
      throw new ApiError(400, 'PLAYBOOK_INVALID', `no smart folder ${t.smartFolderId}`, `/actions/${i}/targets/smartFolderId`);
  }
}

export async function playbookRoutes(app: FastifyInstance, engine: PlaybookEngine | undefined): Promise<void> {
  const tags = ['playbooks'];
  const requireEngine = () => {
    if (!engine) throw new ApiError(503, 'PLAYBOOKS_UNAVAILABLE', 'playbooks are not running on this manager');
    return engine;
  };

  app.get('/api/v1/playbooks', { schema: { tags, summary: 'List playbooks' } }, async (request) => {
    const user = requireRole(request, 'auditor');
    return { playbooks: await user.store.playbooks.list() };
  });

  app.post(
    '/api/v1/playbooks',
    { schema: { tags, summary: 'Create a playbook: a trigger (filter, threshold, window) and its actions', body: PlaybookInputSchema } },
    async (request, reply) => {
      const user = requireRole(request, 'operator');
      const input = request.body as PlaybookInput;
      await checkInput(user.store, input);
      const pb = await user.store.playbooks.create(input);
      await user.store.audit.record(user.actor, 'playbook.create', `playbook:${pb.id}`, {
        name: pb.name,
        trigger: pb.trigger,
        actions: pb.actions,
      });
      reply.status(201);
      return pb;
    },
  );

  app.get('/api/v1/playbooks/:id', { schema: { tags, summary: 'Get a playbook (by id or name)', params: IdParams } }, async (request) => {
    const user = requireRole(request, 'auditor');
    const pb = await user.store.playbooks.get((request.params as IdParamsT).id);
    if (!pb) throw notFound('playbook');
    return pb;
  });

  app.patch(
    '/api/v1/playbooks/:id',
    {
      schema: {
        tags,
        summary: 'Change a playbook (enable, disable, replace trigger or actions)',
        params: IdParams,
        body: Type.Partial(PlaybookInputSchema),
      },
    },
    async (request) => {
      const user = requireRole(request, 'operator');
      const pb = await user.store.playbooks.get((request.params as IdParamsT).id);
      if (!pb) throw notFound('playbook');
      const patch = request.body as Partial<PlaybookInput>;
      await checkInput(user.store, patch);
      const out = await user.store.playbooks.update(pb.id, patch);
      await user.store.audit.record(user.actor, 'playbook.update', `playbook:${pb.id}`, { fields: Object.keys(patch) });
      return out;
    },
  );

  app.delete(
    '/api/v1/playbooks/:id',
    { schema: { tags, summary: 'Delete a playbook (its action records stay)', params: IdParams } },
    async (request, reply) => {
      const user = requireRole(request, 'operator');
      const pb = await user.store.playbooks.get((request.params as IdParamsT).id);
      if (!pb) throw notFound('playbook');
      await user.store.playbooks.delete(pb.id);
      await user.store.audit.record(user.actor, 'playbook.delete', `playbook:${pb.id}`, { name: pb.name });
      reply.status(204);
    },
  );

  app.get(
    '/api/v1/playbook-actions',
    {
      schema: {
        tags,
        summary: 'What playbooks did: every action with its inputs, result and undo state (newest first)',
        querystring: Type.Object({
          playbookId: Type.Optional(Type.String({ maxLength: 200 })),
          status: Type.Optional(Type.Enum(PLAYBOOK_ACTION_STATUSES)),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 200 })),
        }),
      },
    },
    async (request) => {
      const user = requireRole(request, 'auditor');
      const q = request.query as { playbookId?: string; status?: string; limit?: number };
      let playbookId = q.playbookId;
      if (playbookId) playbookId = (await user.store.playbooks.get(playbookId))?.id ?? playbookId;
      return { actions: await user.store.playbooks.listActions({ ...q, ...(playbookId ? { playbookId } : {}) }) };
    },
  );

  app.get('/api/v1/playbook-actions/:id', { schema: { tags, summary: 'One recorded action', params: IdParams } }, async (request) => {
    const user = requireRole(request, 'auditor');
    const rec = await user.store.playbooks.action((request.params as IdParamsT).id);
    if (!rec) throw notFound('playbook action');
    return rec;
  });

  app.post(
    '/api/v1/playbook-actions/:id/undo',
    { schema: { tags, summary: 'Undo an action: unblock the address, restore the security groups', params: IdParams } },
    async (request) => {
      const user = requireRole(request, 'operator');
      try {
        return await requireEngine().undo(user.store, (request.params as IdParamsT).id, user.actor);
      } catch (err) {
        if (err instanceof PlaybookError) throw new ApiError(err.code === 'PLAYBOOK_ACTION_NOT_FOUND' ? 404 : 409, err.code, err.message);
        throw err;
      }
    },
  );
}
