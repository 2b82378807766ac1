import type { ArtifactKind } from '@palisade/protocol';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { ARTIFACT_NAME_PATTERN, FEED_FORMATS, MAX_ARTIFACT_BYTES, SIGNATURE_FORMATS } from '../../artifacts/artifact-formats.ts';
import {
  ARTIFACT_DOWNLOAD_JOB,
  ArtifactRejected,
  artifactUsers,
  downloadTaskName,
  importFolder,
  storeArtifact,
  validate,
} from '../../artifacts/artifact-service.ts';
import { artifactsOf, forgetArtifactCatalog } from '../../artifacts/resolve-artifact-refs.ts';
import { ApiError, notFound } from '../api-error.ts';
import type { ManagerContext } from '../manager-context.ts';
import { authenticateAgent, requireRole } from '../request-auth.ts';
import { nextRun } from './task-routes.ts';

const Diagnostic = Type.Object({
  code: Type.String(),
  message: Type.String(),
  severity: Type.String(),
  file: Type.Optional(Type.String()),
  line: Type.Optional(Type.Integer()),
  column: Type.Optional(Type.Integer()),
});
const ArtifactSchema = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  name: Type.String(),
  format: Type.String(),
  sha256: Type.String(),
  size: Type.Integer(),
  version: Type.Integer(),
  source: Type.String(),
  description: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  refreshedAt: Type.String(),
  lastError: Type.Union([Type.String(), Type.Null()]),
});
const StoredSchema = Type.Object({
  artifact: ArtifactSchema,
  changed: Type.Boolean(),
  created: Type.Boolean(),
  warnings: Type.Array(Diagnostic),
  summary: Type.Record(Type.String(), Type.Unknown()),
});
const DryRunSchema = Type.Object({
  valid: Type.Boolean(),
  warnings: Type.Array(Diagnostic),
  summary: Type.Record(Type.String(), Type.Unknown()),
});
const ErrorSchema = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String(),
  error: Type.String(),
  message: Type.String(),
  field: Type.Optional(Type.String()),
  diagnostics: Type.Optional(Type.Array(Diagnostic)),
});
const NameParams = Type.Object({ name: Type.String({ pattern: ARTIFACT_NAME_PATTERN }) });
const errors = { 400: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema };

function sendRejected(reply: FastifyReply, err: ArtifactRejected) {
  const status = err.code === 'ARTIFACT_TOO_LARGE' ? 413 : 400;
  return reply.status(status).send({
    statusCode: status,
    code: err.code,
    error: status === 413 ? 'Payload Too Large' : 'Bad Request',
    message: err.message,
    ...(err.field ? { field: err.field } : {}),
    diagnostics: err.diagnostics,
  });
}

interface KindRoutes {
  kind: ArtifactKind;
  base: string;
  tag: string;
  what: string;
  formats: readonly string[];
  defaultFormat?: string;
}

/**
 * The same routes for both kinds of artifact, so signature sets and feeds share one store, one
 * validation path and one download mechanism (ADR 0007).
 */
async function kindRoutes(app: FastifyInstance, ctx: Pick<ManagerContext, 'stores'>, k: KindRoutes): Promise<void> {
  const tags = [k.tag];
  const clock = ctx.stores.clock;

  app.get(
    k.base,
    {
      schema: {
        tags,
        summary: `List ${k.what}s (metadata, never the bytes)`,
        response: { 200: Type.Object({ artifacts: Type.Array(ArtifactSchema) }) },
      },
    },
    async (request) => {
      const user = requireRole(request, 'auditor');
      return { artifacts: await artifactsOf(user.store, clock).list(k.kind) };
    },
  );

  app.get(
    `${k.base}/:name`,
    {
      schema: {
        tags,
        summary: `One ${k.what}, with the policies and computers that use it`,
        params: NameParams,
        response: { 200: Type.Object({ artifact: ArtifactSchema, usedBy: Type.Array(Type.String()) }), ...errors },
      },
    },
    async (request) => {
      const user = requireRole(request, 'auditor');
      const { name } = request.params as { name: string };
      const artifact = await artifactsOf(user.store, clock).get(k.kind, name);
      if (!artifact) throw notFound(`${k.what} ${name}`);
      return { artifact, usedBy: await artifactUsers(user.store, k.kind, name) };
    },
  );

  app.put(
    `${k.base}/:name`,
    {
      bodyLimit: MAX_ARTIFACT_BYTES,
      schema: {
        tags,
        summary: `Upload (create or replace) a ${k.what}: the raw file as the body; it must parse, or nothing is stored`,
        description: `Send the file bytes as the body (any content type, e.g. application/octet-stream). The content is parsed as the agent will parse it; a file that does not parse is refused with the parser's diagnostics (file:line). Uploading the same bytes again only marks the ${k.what} refreshed.`,
        params: NameParams,
        querystring: Type.Object({
          format: k.defaultFormat ? Type.Optional(Type.Enum(k.formats)) : Type.Enum(k.formats),
          description: Type.Optional(Type.String({ maxLength: 1000 })),
          /** Parse only: answers 200 with the diagnostics and stores nothing (all-or-nothing imports). */
          dryRun: Type.Optional(Type.Boolean()),
        }),
        response: { 200: Type.Union([StoredSchema, DryRunSchema]), 201: StoredSchema, ...errors, 413: ErrorSchema },
      },
    },
    async (request, reply) => {
      const user = requireRole(request, 'operator');
      const { name } = request.params as { name: string };
      const q = request.query as { format?: string; description?: string; dryRun?: boolean };
      const body = request.body;
      if (!Buffer.isBuffer(body)) throw new ApiError(400, 'ARTIFACT_INVALID', 'send the file bytes as the request body');
      try {
        if (q.dryRun) return { valid: true, ...validate({ kind: k.kind, name, format: q.format ?? k.defaultFormat!, bytes: body }) };
        const stored = await storeArtifact(user.store, clock, {
          kind: k.kind,
          name,
          format: q.format ?? k.defaultFormat!,
          bytes: body,
          source: 'upload',
          ...(q.description !== undefined ? { description: q.description } : {}),
        });
        await user.store.audit.record(user.actor, stored.created ? 'artifact.create' : 'artifact.update', `${k.kind}:${name}`, {
          sha256: stored.artifact.sha256,
          size: stored.artifact.size,
          version: stored.artifact.version,
          changed: stored.changed,
        });
        reply.status(stored.created ? 201 : 200);
        return stored;
      } catch (err) {
        if (err instanceof ArtifactRejected) return sendRejected(reply, err);
        throw err;
      }
    },
  );

  app.delete(
    `${k.base}/:name`,
    {
      schema: {
        tags,
        summary: `Delete a ${k.what}; refused while a policy or computer names it`,
        params: NameParams,
        response: { 200: Type.Object({ deleted: Type.Boolean() }), ...errors },
      },
    },
    async (request) => {
      const user = requireRole(request, 'operator');
      const { name } = request.params as { name: string };
      const users = await artifactUsers(user.store, k.kind, name);
      if (users.length)
        throw new ApiError(409, 'ARTIFACT_IN_USE', `${k.what} ${name} is used by ${users.join(', ')}; remove it there first`);
      if (!(await artifactsOf(user.store, clock).delete(k.kind, name))) throw notFound(`${k.what} ${name}`);
      const task = (await user.store.tasks.listScheduledTasks()).find((t) => t.name === downloadTaskName(k.kind, name));
      if (task) await user.store.tasks.deleteScheduledTask(task.id);
      forgetArtifactCatalog(user.store);
      await user.store.audit.record(user.actor, 'artifact.delete', `${k.kind}:${name}`, {});
      return { deleted: true };
    },
  );

  app.post(
    `${k.base}/import-folder`,
    {
      schema: {
        tags,
        summary: `Import every ${k.what} file of a folder on the manager host, all or nothing`,
        description:
          k.kind === 'signature-set'
            ? 'Files are recognised by extension (ClamAV .hdb .hsb .mdb .msb .ndb .ldb .fp .sfp .ign .ign2 .cvd .cld, YARA .yar .yara) and named after the file without it. A mirrored ClamAV database directory imports as it is.'
            : 'Every regular file is a feed (format detected from its content; .gz is unpacked), named after the file without its last extension.',
        body: Type.Object({ path: Type.String({ minLength: 1, maxLength: 4096, pattern: '^/' }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ imported: Type.Array(StoredSchema), skipped: Type.Array(Type.String()) }), ...errors },
      },
    },
    async (request, reply) => {
      // Reads the manager host's disk: admins only.
      const user = requireRole(request, 'admin');
      const { path } = request.body as { path: string };
      try {
        const res = await importFolder(user.store, clock, k.kind, path);
        await user.store.audit.record(user.actor, 'artifact.import-folder', `${k.kind}:${path}`, {
          imported: res.imported.map((i) => ({ name: i.artifact.name, sha256: i.artifact.sha256, changed: i.changed })),
        });
        return res;
      } catch (err) {
        if (err instanceof ArtifactRejected) return sendRejected(reply, err);
        throw err;
      }
    },
  );

  const DownloadSchema = Type.Object({
    taskId: Type.String(),
    url: Type.String(),
    cron: Type.String(),
    nextRunAt: Type.Union([Type.String(), Type.Null()]),
    jobId: Type.String(),
  });
  app.put(
    `${k.base}/:name/download`,
    {
      schema: {
        tags,
        summary: `Download this ${k.what} from a URL now and on a schedule (a scheduled task)`,
        description:
          'Creates or replaces the scheduled task `artifact-download:<kind>:<name>` and queues one download at once. A download that fails or does not parse keeps the stored version and records the reason on the artifact (`lastError`).',
        params: NameParams,
        body: Type.Object(
          {
            url: Type.String({ minLength: 8, maxLength: 2000, pattern: '^https?://' }),
            cron: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            ...(k.defaultFormat ? { format: Type.Optional(Type.Enum(k.formats)) } : { format: Type.Enum(k.formats) }),
          },
          { additionalProperties: false },
        ),
        response: { 200: DownloadSchema, ...errors },
      },
    },
    async (request) => {
      const user = requireRole(request, 'operator');
      const { name } = request.params as { name: string };
      const b = request.body as { url: string; cron?: string; timezone?: string; format?: string };
      const cron = b.cron ?? '17 */6 * * *';
      const timezone = b.timezone ?? 'UTC';
      const nextRunAt = nextRun(cron, timezone, clock());
      const jobArgs = { kind: k.kind, name, url: b.url, format: b.format ?? k.defaultFormat! };
      const taskName = downloadTaskName(k.kind, name);
      const old = (await user.store.tasks.listScheduledTasks()).find((t) => t.name === taskName);
      if (old) await user.store.tasks.deleteScheduledTask(old.id);
      const task = await user.store.tasks.createScheduledTask({
        name: taskName,
        cron,
        timezone,
        jobKind: ARTIFACT_DOWNLOAD_JOB,
        jobArgs,
        enabled: true,
        nextRunAt,
      });
      const job = await user.store.jobs.enqueue(ARTIFACT_DOWNLOAD_JOB, { ...jobArgs, scheduledTaskId: task.id });
      if (!job) throw new ApiError(409, 'STORE_CONFLICT', 'a download of this artifact is already queued');
      await user.store.audit.record(user.actor, 'artifact.download-schedule', `${k.kind}:${name}`, { url: b.url, cron });
      return { taskId: task.id, url: b.url, cron, nextRunAt, jobId: job.id };
    },
  );

  app.delete(
    `${k.base}/:name/download`,
    {
      schema: {
        tags,
        summary: `Stop the periodic download of this ${k.what} (the stored version stays)`,
        params: NameParams,
        response: { 200: Type.Object({ deleted: Type.Boolean() }), ...errors },
      },
    },
    async (request) => {
      const user = requireRole(request, 'operator');
      const { name } = request.params as { name: string };
      const task = (await user.store.tasks.listScheduledTasks()).find((t) => t.name === downloadTaskName(k.kind, name));
      if (!task) throw notFound(`a periodic download of ${k.what} ${name}`);
      await user.store.tasks.deleteScheduledTask(task.id);
      await user.store.audit.record(user.actor, 'artifact.download-unschedule', `${k.kind}:${name}`, {});
      return { deleted: true };
    },
  );
}

/** Signature sets and web-reputation feeds: upload, list, show, delete, import a folder, download from a URL. */
export async function artifactRoutes(app: FastifyInstance, ctx: Pick<ManagerContext, 'stores'>): Promise<void> {
  // Own scope: uploads are raw bytes whatever their content type (a JSON feed stays bytes too).
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_ARTIFACT_BYTES }, (request, body, done) => {
      if (request.method !== 'PUT' || /\/(signature-sets|webrep-feeds)\/[^/?]+\/download(\?|$)/.test(request.url)) {
        try {
          done(null, JSON.parse((body as Buffer).toString('utf8')));
        } catch {
          const err = new Error('the request body is not valid JSON') as Error & { statusCode: number; code: string };
          err.statusCode = 400;
          err.code = 'FST_ERR_CTP_INVALID_JSON_BODY';
          done(err, undefined);
        }
        return;
      }
      done(null, body);
    });
    await kindRoutes(scope, ctx, {
      kind: 'signature-set',
      base: '/api/v1/signature-sets',
      tag: 'signature-sets',
      what: 'signature set',
      formats: SIGNATURE_FORMATS,
    });
    await kindRoutes(scope, ctx, {
      kind: 'webrep-feed',
      base: '/api/v1/webrep-feeds',
      tag: 'webrep-feeds',
      what: 'web-reputation feed',
      formats: FEED_FORMATS,
      defaultFormat: 'auto',
    });
  });
}

/** The agents' download of an artifact, by content address, within the agent's own tenant. */
export async function artifactAgentRoutes(app: FastifyInstance, ctx: Pick<ManagerContext, 'stores'>): Promise<void> {
  app.addHook('onRequest', async (request) => {
    request.agent = await authenticateAgent(request, ctx.stores);
  });
  app.get(
    '/api/agent/v1/artifacts/:sha256',
    {
      schema: {
        tags: ['agent'],
        summary: 'Download an artifact (signature set or feed) by its SHA-256; the agent verifies the hash before use',
        security: [{ agent: [] }],
        params: Type.Object({ sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }) }),
        response: { 200: Type.String({ format: 'binary' }), 404: ErrorSchema },
      },
    },
    async (request, reply) => {
      const { store } = request.agent!;
      const { sha256 } = request.params as { sha256: string };
      const found = await artifactsOf(store, ctx.stores.clock).bytesBySha(sha256);
      if (!found) throw notFound(`artifact ${sha256}`);
      reply.header('content-type', 'application/octet-stream');
      reply.header('x-palisade-artifact', `${found.info.kind}/${found.info.name}`);
      return reply.send(found.bytes);
    },
  );
}
