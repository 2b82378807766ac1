import { parseOsvDocument } from '@palisade/vuln';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { ScanOutcome } from '../../recommendations/recommendation-service.ts';
import { PRIMARY_TENANT } from '../../store/store-provider.ts';
import { forbidden, notFound } from '../api-error.ts';
import type { ManagerContext } from '../manager-context.ts';
import { requireRole } from '../request-auth.ts';
import { IdParams, type IdParamsT } from './common-schemas.ts';

export async function recommendationRoutes(app: FastifyInstance, ctx: ManagerContext): Promise<void> {
  const tags = ['recommendations'];

  const computerOf = async (request: Parameters<typeof requireRole>[0], role: 'auditor' | 'operator') => {
    const user = requireRole(request, role);
    const c = await user.store.computers.get((request.params as IdParamsT).id);
    if (!c) throw notFound('computer');
    return { user, computer: c };
  };

  app.get(
    '/api/v1/computers/:id/inventory',
    { schema: { tags, summary: 'The latest software inventory the agent reported', params: IdParams } },
    async (request) => {
      const { user, computer } = await computerOf(request, 'auditor');
      const inv = await user.store.inventory.get(computer.id);
      if (!inv) throw notFound('inventory (the agent has not reported one yet)');
      return inv;
    },
  );

  app.get(
    '/api/v1/computers/:id/vulnerabilities',
    { schema: { tags, summary: 'Vulnerabilities found by the latest recommendation scan', params: IdParams } },
    async (request) => {
      const { user, computer } = await computerOf(request, 'auditor');
      const scan = await user.store.inventory.latestScan<ScanOutcome>(computer.id);
      return { scannedAt: scan?.scannedAt ?? null, vulnerabilities: scan?.result.vulnerabilities ?? [] };
    },
  );

  app.get(
    '/api/v1/computers/:id/recommendations',
    { schema: { tags, summary: 'The latest recommendation scan: recommended rules and the diff', params: IdParams } },
    async (request) => {
      const { user, computer } = await computerOf(request, 'auditor');
      const scan = await user.store.inventory.latestScan<ScanOutcome>(computer.id);
      return { assigned: computer.ruleAssignments, scan: scan?.result ?? null };
    },
  );

  app.post(
    '/api/v1/computers/:id/recommendations/scan',
    {
      schema: {
        tags,
        summary: 'Run a recommendation scan now; dryRun shows the diff without storing or applying it',
        params: IdParams,
        body: Type.Object({ dryRun: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
      },
    },
    async (request) => {
      const { user, computer } = await computerOf(request, (request.body as { dryRun?: boolean }).dryRun ? 'auditor' : 'operator');
      return ctx.recommendations.scan(
        user.store,
        computer.id,
        (request.body as { dryRun?: boolean }).dryRun ? 'dry-run' : 'by-policy',
        user.actor,
      );
    },
  );

  app.post(
    '/api/v1/smart-folders/:id/recommendations/scan',
    {
      schema: {
        tags,
        summary: 'Queue a recommendation scan of every computer in a smart folder (a job; each policy decides report or auto)',
        params: IdParams,
      },
    },
    async (request, reply) => {
      const user = requireRole(request, 'operator');
      const id = (request.params as IdParamsT).id;
      if (!(await user.store.smartFolders.get(id))) throw notFound('smart folder');
      const job = await user.store.jobs.enqueue('recommendation-scan', { smartFolderId: id });
      await user.store.audit.record(user.actor, 'recommendation.scan-folder', `smart-folder:${id}`, { jobId: job?.id ?? null });
      reply.status(202);
      return job;
    },
  );

  app.post(
    '/api/v1/computers/:id/recommendations/apply',
    { schema: { tags, summary: 'Scan and apply the diff now, whatever the policy mode', params: IdParams } },
    async (request) => {
      const { user, computer } = await computerOf(request, 'operator');
      const out = await ctx.recommendations.scan(user.store, computer.id, 'apply', user.actor);
      if (out.applied) ctx.notifier.notify(computer.id);
      return out;
    },
  );

  app.get(
    '/api/v1/rules',
    {
      schema: {
        tags,
        summary: "Palisade's shipped rules that recommendation scans can assign",
        querystring: Type.Object({ module: Type.Optional(Type.String()) }),
      },
    },
    async (request) => {
      requireRole(request, 'auditor');
      const module = (request.query as { module?: string }).module;
      return { rules: ctx.catalog.rules.filter((r) => !module || r.module === module), problems: ctx.catalog.problems };
    },
  );

  app.get(
    '/api/v1/vulnerability-data/imports',
    { schema: { tags, summary: 'What vulnerability data was imported when' } },
    async (request) => {
      requireRole(request, 'auditor');
      return { imports: await ctx.stores.vulnData.imports() };
    },
  );

  app.post(
    '/api/v1/vulnerability-data',
    {
      schema: {
        tags,
        summary: 'Import OSV records (incremental by `modified`); large sets: `palisade vuln import` on the manager host',
        body: Type.Object(
          { source: Type.String({ minLength: 1, maxLength: 500 }), records: Type.Array(Type.Unknown(), { maxItems: 20_000 }) },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const user = requireRole(request, 'admin');
      // Vulnerability data is shared by every tenant, so only the primary tenant changes it.
      if (user.tenantId !== PRIMARY_TENANT) throw forbidden('only the primary tenant imports vulnerability data');
      const { source, records } = request.body as { source: string; records: unknown[] };
      const parsed = parseOsvDocument(JSON.stringify(records), source);
      const entry = await ctx.stores.vulnData.import(
        source,
        parsed.records,
        parsed.diagnostics.map((d) => ({ code: d.code, message: d.message, ...(d.file ? { file: d.file } : {}) })),
        parsed.skipped,
      );
      await user.store.audit.record(user.actor, 'vulnerability-data.import', `vuln-import:${entry.id}`, {
        source,
        added: entry.added,
        updated: entry.updated,
      });
      reply.status(201);
      return entry;
    },
  );
}
