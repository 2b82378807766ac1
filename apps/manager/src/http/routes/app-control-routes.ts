import { normalizeSha256 } from '@palisade/app-control';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import {
  appControlOf,
  decideHash,
  invalidateAppControl,
  mergeRules,
  RulesetInvalid,
  rulesetUsers,
  syncDrift,
  validateRules,
} from '../../app-control/app-control-service.ts';
import { DRIFT_STATUSES, type DriftStatus, localRulesetId } from '../../store/app-control-repository.ts';
import { ApiError, notFound } from '../api-error.ts';
import type { ManagerContext } from '../manager-context.ts';
import { requireRole } from '../request-auth.ts';
import { IdParams, type IdParamsT } from './common-schemas.ts';

const tags = ['app-control'];
const Sha256 = Type.String({ pattern: '^[0-9a-fA-F]{64}$', description: 'SHA-256, 64 hex digits' });
const RulesetId = Type.String({ pattern: '^[A-Za-z0-9._-]{1,100}$', description: 'the ruleset id the policies assign' });
const Description = Type.String({ maxLength: 1000 });
/** Checked in depth by the rule loader the agent uses too (all-or-nothing, errors located by rule). */
const Rules = Type.Array(Type.Record(Type.String(), Type.Unknown()), { maxItems: 100_000 });
const Action = Type.Union([Type.Literal('allow'), Type.Literal('block')]);

const RuleSchema = Type.Object(
  {
    kind: Type.Union([Type.Literal('hash'), Type.Literal('path'), Type.Literal('package')]),
    action: Action,
    sha256: Type.Optional(Type.String()),
    pattern: Type.Optional(Type.String()),
    manager: Type.Optional(Type.String()),
    name: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);
const RulesetSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  scope: Type.Union([Type.Literal('shared'), Type.Literal('local')]),
  computerId: Type.Union([Type.String(), Type.Null()]),
  rules: Type.Array(RuleSchema),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
const DriftSchema = Type.Object(
  {
    id: Type.String(),
    computerId: Type.String(),
    path: Type.String(),
    sha256: Type.String(),
    access: Type.String(),
    size: Type.Union([Type.Integer(), Type.Null()]),
    package: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
    verdict: Type.String(),
    source: Type.String(),
    blocked: Type.Boolean(),
    reports: Type.Integer(),
    firstSeen: Type.String(),
    lastSeen: Type.String(),
    process: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
    user: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
    status: Type.String(),
    decision: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
    decidedBy: Type.Union([Type.String(), Type.Null()]),
    decidedAt: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
);
const DecisionResult = Type.Object({
  ruleset: RulesetSchema,
  decision: Type.Object({ action: Action, scope: Type.String(), rulesetId: Type.String() }),
  driftClosed: Type.Integer(),
});
const DriftQuery = Type.Object({
  computerId: Type.Optional(Type.String({ maxLength: 200 })),
  status: Type.Optional(Type.Union([...DRIFT_STATUSES.map((s) => Type.Literal(s)), Type.Literal('all')])),
  sha256: Type.Optional(Sha256),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  cursor: Type.Optional(Type.String({ maxLength: 500 })),
});
type DriftQueryT = { computerId?: string; status?: DriftStatus | 'all'; sha256?: string; limit?: number; cursor?: string };

function invalid(err: unknown): never {
  if (err instanceof RulesetInvalid) throw new ApiError(400, 'APPCTL_RULESET_INVALID', err.message, err.field);
  throw err;
}

/**
 * Application control on the manager: shared and local rulesets, the tenant's global block
 * list, and the review of drift (allow or block, for one computer or in a shared ruleset).
 * Agents receive the result in their effective configuration. Auditors read; operators and
 * admins change.
 */
export async function appControlRoutes(app: FastifyInstance, ctx: Pick<ManagerContext, 'stores'>): Promise<void> {
  const repoOf = (store: Parameters<typeof appControlOf>[0]) => appControlOf(store, ctx.stores.clock);

  app.get(
    '/api/v1/app-control/rulesets',
    {
      schema: {
        tags,
        summary: 'List rulesets: shared ones, and the local ruleset of each computer that has one',
        querystring: Type.Object({
          scope: Type.Optional(Type.Union([Type.Literal('shared'), Type.Literal('local')])),
          computerId: Type.Optional(Type.String({ maxLength: 200 })),
        }),
        response: { 200: Type.Object({ rulesets: Type.Array(RulesetSchema) }) },
      },
    },
    async (request) => {
      const user = requireRole(request, 'auditor');
      const q = request.query as { scope?: 'shared' | 'local'; computerId?: string };
      return { rulesets: await repoOf(user.store).listRulesets(q) };
    },
  );

  app.post(
    '/api/v1/app-control/rulesets',
    {
      schema: {
        tags,
        summary: 'Create a shared ruleset; assign it with modules.app-control.settings.sharedRulesets in a policy',
        body: Type.Object(
          {
            id: RulesetId,
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            description: Type.Optional(Description),
            rules: Type.Optional(Rules),
          },
          { additionalProperties: false },
        ),
        response: { 201: RulesetSchema },
      },
    },
    async (request, reply) => {
      const user = requireRole(request, 'operator');
      const b = request.body as { id: string; name?: string; description?: string; rules?: unknown[] };
      let rules;
      try {
        rules = validateRules(b.id, b.name ?? b.id, b.rules ?? []);
      } catch (e) {
        invalid(e);
      }
      const r = await repoOf(user.store).createRuleset({
        id: b.id,
        name: b.name ?? b.id,
        ...(b.description ? { description: b.description } : {}),
        rules,
      });
      invalidateAppControl(user.store);
      await user.store.audit.record(user.actor, 'app-control.ruleset.create', `app-control-ruleset:${r.id}`, { rules: rules.length });
      reply.status(201);
      return r;
    },
  );

  app.get(
    '/api/v1/app-control/rulesets/:id',
    { schema: { tags, summary: 'One ruleset', params: IdParams, response: { 200: RulesetSchema } } },
    async (request) => {
      const user = requireRole(request, 'auditor');
      const r = await repoOf(user.store).getRuleset((request.params as IdParamsT).id);
      if (!r) throw notFound('ruleset');
      return r;
    },
  );

  app.post(
    '/api/v1/app-control/rulesets/:id/rules',
    {
      schema: {
        tags,
        summary: 'Add rules to a ruleset (a hash rule replaces the same hash’s earlier rule); all or nothing',
        params: IdParams,
        body: Type.Object(
          { rules: Type.Array(Type.Record(Type.String(), Type.Unknown()), { minItems: 1, maxItems: 10_000 }) },
          { additionalProperties: false },
        ),
        response: { 200: RulesetSchema },
      },
    },
    async (request) => {
      const user = requireRole(request, 'operator');
      const id = (request.params as IdParamsT).id;
      const repo = repoOf(user.store);
      const found = await repo.getRuleset(id);
      if (!found) throw notFound('ruleset');
      let added;
      try {
        added = validateRules(id, found.name, (request.body as { rules: unknown[] }).rules);
      } catch (e) {
        invalid(e);
      }
      const r = await repo.updateRules(id, (rules) => {
        const merged = mergeRules(rules, added);
        try {
          validateRules(id, found.name, merged);
        } catch (e) {
          invalid(e);
        }
        return merged;
      });
      invalidateAppControl(user.store);
      await user.store.audit.record(user.actor, 'app-control.ruleset.add-rules', `app-control-ruleset:${id}`, { added: added.length });
      return r;
    },
  );

  app.delete(
    '/api/v1/app-control/rulesets/:id',
    { schema: { tags, summary: 'Delete a ruleset; refused while a policy or computer assigns it', params: IdParams } },
    async (request, reply) => {
      const user = requireRole(request, 'operator');
      const id = (request.params as IdParamsT).id;
      const repo = repoOf(user.store);
      const found = await repo.getRuleset(id);
      if (!found) throw notFound('ruleset');
      if (found.scope === 'shared') {
        const users = await rulesetUsers(user.store, id);
        if (users.policies.length > 0 || users.computers.length > 0) {
          throw new ApiError(
            409,
            'APPCTL_RULESET_IN_USE',
            `ruleset ${id} is assigned (policies: ${users.policies.join(', ') || 'none'}; computers: ${users.computers.length}); remove it from sharedRulesets first`,
          );
        }
      }
      await repo.deleteRuleset(id);
      invalidateAppControl(user.store);
      await user.store.audit.record(user.actor, 'app-control.ruleset.delete', `app-control-ruleset:${id}`);
      reply.status(204);
    },
  );

  app.get(
    '/api/v1/app-control/global-block',
    {
      schema: {
        tags,
        summary: "The tenant's global block list: blocked on every computer whatever any rule or baseline says",
        response: {
          200: Type.Object({
            entries: Type.Array(
              Type.Object({ sha256: Type.String(), description: Type.String(), createdBy: Type.String(), createdAt: Type.String() }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const user = requireRole(request, 'auditor');
      return { entries: await repoOf(user.store).listGlobalBlock() };
    },
  );

  app.post(
    '/api/v1/app-control/global-block',
    {
      schema: {
        tags,
        summary: 'Add a SHA-256 to the global block list (idempotent)',
        body: Type.Object({ sha256: Sha256, description: Type.Optional(Description) }, { additionalProperties: false }),
      },
    },
    async (request, reply) => {
      const user = requireRole(request, 'operator');
      const b = request.body as { sha256: string; description?: string };
      const e = await repoOf(user.store).addGlobalBlock(normalizeSha256(b.sha256)!, b.description ?? '', user.actor);
      invalidateAppControl(user.store);
      await user.store.audit.record(user.actor, 'app-control.global-block.add', `sha256:${e.sha256}`);
      reply.status(201);
      return e;
    },
  );

  app.delete(
    '/api/v1/app-control/global-block/:sha256',
    { schema: { tags, summary: 'Remove a SHA-256 from the global block list', params: Type.Object({ sha256: Sha256 }) } },
    async (request, reply) => {
      const user = requireRole(request, 'operator');
      const sha256 = normalizeSha256((request.params as { sha256: string }).sha256)!;
      if (!(await repoOf(user.store).removeGlobalBlock(sha256))) throw notFound('global block entry');
      invalidateAppControl(user.store);
      await user.store.audit.record(user.actor, 'app-control.global-block.remove', `sha256:${sha256}`);
      reply.status(204);
    },
  );

  const listDrift = async (request: Parameters<typeof requireRole>[0], computerId?: string) => {
    const user = requireRole(request, 'auditor');
    const q = request.query as DriftQueryT;
    // Reports that arrived since the last intake tick are included.
    await syncDrift(user.store);
    const cid = computerId ?? q.computerId;
    if (cid && !(await user.store.computers.get(cid))) throw notFound('computer');
    const status = q.status ?? 'open';
    return repoOf(user.store).listDrift({
      ...(cid ? { computerId: cid } : {}),
      ...(status !== 'all' ? { status } : {}),
      ...(q.sha256 ? { sha256: normalizeSha256(q.sha256)! } : {}),
      limit: q.limit ?? 100,
      ...(q.cursor ? { cursor: q.cursor } : {}),
    });
  };
  const DriftPage = Type.Object({ drift: Type.Array(DriftSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) });

  app.get(
    '/api/v1/app-control/drift',
    {
      schema: {
        tags,
        summary: 'Drift across the fleet (new or changed software seen running), most recent first; default status open',
        querystring: DriftQuery,
        response: { 200: DriftPage },
      },
    },
    async (request) => listDrift(request),
  );

  app.get(
    '/api/v1/computers/:id/app-control/drift',
    {
      schema: {
        tags,
        summary: 'Drift of one computer, most recent first; default status open',
        params: IdParams,
        querystring: Type.Omit(DriftQuery, ['computerId']),
        response: { 200: DriftPage },
      },
    },
    async (request) => listDrift(request, (request.params as IdParamsT).id),
  );

  app.post(
    '/api/v1/app-control/drift/:id/review',
    {
      schema: {
        tags,
        summary: 'Review drift: allow or block its content on that computer (its local ruleset) or in a shared ruleset',
        params: IdParams,
        body: Type.Object(
          {
            action: Action,
            rulesetId: Type.Optional(RulesetId),
            description: Type.Optional(Description),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Intersect([DecisionResult, Type.Object({ drift: DriftSchema })]) },
      },
    },
    async (request) => {
      const user = requireRole(request, 'operator');
      const b = request.body as { action: 'allow' | 'block'; rulesetId?: string; description?: string };
      const repo = repoOf(user.store);
      const d = await repo.getDrift((request.params as IdParamsT).id);
      if (!d) throw notFound('drift record');
      const res = await decideHash(
        user.store,
        {
          sha256: d.sha256,
          action: b.action,
          ...(b.rulesetId ? { rulesetId: b.rulesetId } : { computerId: d.computerId }),
          description: b.description ?? `${d.path} (reviewed drift)`,
        },
        user.actor,
      ).catch(invalid);
      // A shared ruleset not assigned to this computer does not change it: the record stays open then.
      await user.store.audit.record(user.actor, `app-control.drift.${b.action}`, `computer:${d.computerId}`, {
        sha256: d.sha256,
        path: d.path,
        ruleset: res.ruleset.id,
      });
      return { ...res, drift: (await repo.getDrift(d.id))! };
    },
  );

  app.post(
    '/api/v1/app-control/decisions',
    {
      schema: {
        tags,
        summary: 'Allow or block a SHA-256 for one computer (computerId: its local ruleset) or in a shared ruleset (rulesetId)',
        body: Type.Object(
          {
            sha256: Sha256,
            action: Action,
            computerId: Type.Optional(Type.String({ maxLength: 200 })),
            rulesetId: Type.Optional(RulesetId),
            description: Type.Optional(Description),
          },
          { additionalProperties: false },
        ),
        response: { 200: DecisionResult },
      },
    },
    async (request) => {
      const user = requireRole(request, 'operator');
      const b = request.body as {
        sha256: string;
        action: 'allow' | 'block';
        computerId?: string;
        rulesetId?: string;
        description?: string;
      };
      const res = await decideHash(user.store, b, user.actor).catch(invalid);
      await user.store.audit.record(
        user.actor,
        `app-control.${b.action}`,
        b.computerId ? `computer:${b.computerId}` : `app-control-ruleset:${b.rulesetId}`,
        {
          sha256: normalizeSha256(b.sha256),
        },
      );
      return res;
    },
  );

  app.get(
    '/api/v1/computers/:id/app-control/ruleset',
    {
      schema: {
        tags,
        summary: "A computer's local ruleset (empty until the first decision for it)",
        params: IdParams,
        response: { 200: RulesetSchema },
      },
    },
    async (request) => {
      const user = requireRole(request, 'auditor');
      const id = (request.params as IdParamsT).id;
      const c = await user.store.computers.get(id);
      if (!c) throw notFound('computer');
      const r = await repoOf(user.store).getRuleset(localRulesetId(id));
      const epoch = new Date(0).toISOString();
      return (
        r ?? {
          id: localRulesetId(id),
          name: 'This computer',
          description: '',
          scope: 'local',
          computerId: id,
          rules: [],
          createdAt: epoch,
          updatedAt: epoch,
        }
      );
    },
  );
}
