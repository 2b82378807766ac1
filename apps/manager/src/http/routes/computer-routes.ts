import { COMPUTER_STATUSES } from '@palisade/protocol';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { type PolicySettings, PolicySettingsSchema } from '../../config/policy-settings-schema.ts';
import { computersMatching } from '../../services/smart-folder-members.ts';
import { effectiveConfigFor, explainConfigFor } from '../../services/effective-config-service.ts';
import type { Computer } from '../../store/computer-repository.ts';
import type { TenantStore } from '../../store/tenant-store.ts';
import { ApiError, notFound } from '../api-error.ts';
import type { ManagerContext } from '../manager-context.ts';
import { requireRole } from '../request-auth.ts';
import { IdParams, type IdParamsT } from './common-schemas.ts';

export async function computerRoutes(app: FastifyInstance, ctx: ManagerContext): Promise<void> {
  const tags = ['computers'];

  app.get(
    '/api/v1/computers',
    {
      schema: {
        tags,
        summary: 'List computers',
        querystring: Type.Object({
          status: Type.Optional(Type.Enum(COMPUTER_STATUSES)),
          policyId: Type.Optional(Type.String()),
          group: Type.Optional(Type.String()),
          hostname: Type.Optional(Type.String({ description: 'substring, case-insensitive' })),
          smartFolderId: Type.Optional(Type.String()),
          includeDeactivated: Type.Optional(Type.Boolean()),
        }),
      },
    },
    async (request) => {
      const user = requireRole(request, 'auditor');
      const q = request.query as {
        status?: string;
        policyId?: string;
        group?: string;
        hostname?: string;
        smartFolderId?: string;
        includeDeactivated?: boolean;
      };
      let list = await user.store.computers.list({
        ...(q.policyId ? { policyId: q.policyId } : {}),
        ...(q.group ? { group: q.group } : {}),
        includeDeactivated: q.includeDeactivated ?? false,
      });
      if (q.status) list = list.filter((c) => c.status === q.status);
      if (q.hostname) list = list.filter((c) => c.hostname.toLowerCase().includes(q.hostname!.toLowerCase()));
      if (q.smartFolderId) {
        const folder = await user.store.smartFolders.get(q.smartFolderId);
        if (!folder) throw notFound('smart folder');
        list = await computersMatching(user.store, folder.query, list);
      }
      return { computers: list };
    },
  );

  app.get('/api/v1/computers/:id', { schema: { tags, summary: 'Get a computer', params: IdParams } }, async (request) => {
    const user = requireRole(request, 'auditor');
    const c = await user.store.computers.get((request.params as IdParamsT).id);
    if (!c) throw notFound('computer');
    return c;
  });

  app.patch(
    '/api/v1/computers/:id',
    {
      schema: {
        tags,
        summary: "Assign a policy or group, set the computer's own overrides or tags",
        params: IdParams,
        body: Type.Object(
          {
            policyId: Type.Optional(Type.Union([Type.String(), Type.Null()])),
            group: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Null()])),
            overrides: Type.Optional(PolicySettingsSchema),
            tags: Type.Optional(Type.Record(Type.String({ maxLength: 128 }), Type.String({ maxLength: 255 }))),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const user = requireRole(request, 'operator');
      const { id } = request.params as IdParamsT;
      if (!(await user.store.computers.get(id))) throw notFound('computer');
      const body = request.body as {
        policyId?: string | null;
        group?: string | null;
        overrides?: PolicySettings;
        tags?: Record<string, string>;
      };
      if (body.policyId && !(await user.store.policies.get(body.policyId))) {
        throw new ApiError(400, 'API_INVALID_REFERENCE', `no policy ${body.policyId}`, '/policyId');
      }
      const c = await user.store.computers.update(id, body);
      await user.store.audit.record(user.actor, 'computer.update', `computer:${id}`, { changed: Object.keys(body), ...body });
      return c;
    },
  );

  app.delete(
    '/api/v1/computers/:id',
    { schema: { tags, summary: "Deactivate a computer: its agent's credentials stop working", params: IdParams } },
    async (request) => {
      const user = requireRole(request, 'operator');
      const { id } = request.params as IdParamsT;
      if (!(await user.store.computers.get(id))) throw notFound('computer');
      await user.store.computers.deactivate(id);
      await user.store.audit.record(user.actor, 'computer.deactivate', `computer:${id}`);
      return (await user.store.computers.get(id))!;
    },
  );

  app.get(
    '/api/v1/computers/:id/effective-config',
    { schema: { tags, summary: 'Effective configuration, with where each setting comes from', params: IdParams } },
    async (request) => {
      const user = requireRole(request, 'auditor');
      const c = await user.store.computers.get((request.params as IdParamsT).id);
      if (!c) throw notFound('computer');
      const { config, hash } = await effectiveConfigFor(user.store, c);
      return { hash, config, appliedHash: c.configHash, origins: await explainConfigFor(user.store, c) };
    },
  );

  app.post(
    '/api/v1/computers/:id/commands',
    {
      schema: {
        tags,
        summary: 'Send a command to the agent (delivered within seconds to an online agent)',
        params: IdParams,
        body: Type.Object(
          {
            kind: Type.String({ pattern: '^[a-z][a-z0-9-]{0,60}(\\.[a-z][a-z0-9-]{0,60})?$' }),
            args: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const user = requireRole(request, 'operator');
      const { id } = request.params as IdParamsT;
      const c = await user.store.computers.get(id);
      if (!c || c.deactivatedAt) throw notFound('computer');
      const { kind, args } = request.body as { kind: string; args?: Record<string, unknown> };
      const cmd = await user.store.commands.enqueue(id, kind, args ?? {});
      ctx.notifier.notify(id);
      await user.store.audit.record(user.actor, 'command.create', `computer:${id}`, { commandId: cmd.id, kind });
      reply.status(202);
      return cmd;
    },
  );

  app.get(
    '/api/v1/computers/:id/commands',
    { schema: { tags, summary: 'Recent commands of a computer', params: IdParams } },
    async (request) => {
      const user = requireRole(request, 'auditor');
      const { id } = request.params as IdParamsT;
      if (!(await user.store.computers.get(id))) throw notFound('computer');
      return { commands: await user.store.commands.listForComputer(id) };
    },
  );

  app.get('/api/v1/commands/:id', { schema: { tags, summary: 'A command and its result', params: IdParams } }, async (request) => {
    const user = requireRole(request, 'auditor');
    const cmd = await user.store.commands.get((request.params as IdParamsT).id);
    if (!cmd) throw notFound('command');
    return cmd;
  });
}
