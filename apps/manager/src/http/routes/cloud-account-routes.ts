import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { CloudAccountError, type CloudAccountCreate, type CloudConnector } from '../../cloud/cloud-connector.ts';
import { syncCloudAccount } from '../../cloud/cloud-sync.ts';
import { CLOUD_AUTH_TYPES } from '../../store/cloud-repository.ts';
import type { TenantStore } from '../../store/tenant-store.ts';
import { ApiError, notFound } from '../api-error.ts';
import { requireRole } from '../request-auth.ts';
import { IdParams, type IdParamsT, Name } from './common-schemas.ts';

const Region = Type.String({ pattern: '^[a-z]{2}(-[a-z]+)+-\\d$', maxLength: 30 });

const CreateBody = Type.Object(
  {
    name: Name,
    authType: Type.Enum(CLOUD_AUTH_TYPES),
    regions: Type.Array(Region, { minItems: 1, maxItems: 40, uniqueItems: true }),
    awsAccountId: Type.Optional(Type.String({ pattern: '^\\d{12}$' })),
    roleArn: Type.Optional(Type.String({ maxLength: 2048 })),
    externalId: Type.Optional(Type.String({ minLength: 2, maxLength: 1224 })),
    accessKeyId: Type.Optional(Type.String({ pattern: '^[A-Z0-9]{16,128}$' })),
    secretAccessKey: Type.Optional(Type.String({ minLength: 16, maxLength: 256 })),
    syncIntervalSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 86_400 })),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const PatchBody = Type.Object(
  {
    name: Type.Optional(Name),
    regions: Type.Optional(Type.Array(Region, { minItems: 1, maxItems: 40, uniqueItems: true })),
    syncIntervalSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 86_400 })),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

function toApiError(err: unknown): unknown {
  if (err instanceof CloudAccountError)
    return new ApiError(err.code === 'CLOUD_ACCOUNT_NOT_FOUND' ? 404 : 400, err.code, err.message, err.field);
  const code = (err as { code?: string }).code;
  if (code === 'CLOUD_SYNC_FAILED') return new ApiError(502, 'CLOUD_SYNC_FAILED', (err as Error).message);
  return err;
}

async function accountOr404(store: TenantStore, id: string) {
  const a = await store.cloud.account(id);
  if (!a) throw notFound('cloud account');
  return a;
}

/**
 * Cloud accounts: credentials go in and never come out (the API shows only `hasSecret` and the
 * access key id); sync runs on demand here and periodically through the job runner.
 */
export async function cloudAccountRoutes(app: FastifyInstance, cloud: CloudConnector | undefined): Promise<void> {
  const tags = ['cloud-accounts'];
  const connector = () => {
    if (!cloud) throw new ApiError(503, 'CLOUD_UNAVAILABLE', 'the cloud connector is not configured on this manager');
    return cloud;
  };

  app.get('/api/v1/cloud-accounts', { schema: { tags, summary: 'List cloud accounts (secrets are never returned)' } }, async (request) => {
    const user = requireRole(request, 'auditor');
    return { cloudAccounts: await user.store.cloud.listAccounts() };
  });

  app.post(
    '/api/v1/cloud-accounts',
    { schema: { tags, summary: 'Add an AWS account (access keys, assumed role, or the instance role)', body: CreateBody } },
    async (request, reply) => {
      const user = requireRole(request, 'admin');
      const body = request.body as CloudAccountCreate;
      try {
        const a = await connector().createAccount(user.store, body);
        await user.store.audit.record(user.actor, 'cloud-account.create', `cloud-account:${a.id}`, {
          name: a.name,
          authType: a.authType,
          regions: a.regions,
          roleArn: a.roleArn,
        });
        reply.status(201);
        return a;
      } catch (err) {
        throw toApiError(err);
      }
    },
  );

  app.get('/api/v1/cloud-accounts/:id', { schema: { tags, summary: 'Get a cloud account', params: IdParams } }, async (request) => {
    const user = requireRole(request, 'auditor');
    return accountOr404(user.store, (request.params as IdParamsT).id);
  });

  app.patch(
    '/api/v1/cloud-accounts/:id',
    { schema: { tags, summary: 'Change regions, interval, name or enabled', params: IdParams, body: PatchBody } },
    async (request) => {
      const user = requireRole(request, 'admin');
      const a = await accountOr404(user.store, (request.params as IdParamsT).id);
      const patch = request.body as { name?: string; regions?: string[]; syncIntervalSeconds?: number; enabled?: boolean };
      const out = await user.store.cloud.updateAccount(a.id, patch);
      await user.store.audit.record(user.actor, 'cloud-account.update', `cloud-account:${a.id}`, patch);
      return out;
    },
  );

  app.delete(
    '/api/v1/cloud-accounts/:id',
    { schema: { tags, summary: 'Remove a cloud account', params: IdParams } },
    async (request, reply) => {
      const user = requireRole(request, 'admin');
      const a = await accountOr404(user.store, (request.params as IdParamsT).id);
      await user.store.cloud.deleteAccount(a.id);
      await user.store.audit.record(user.actor, 'cloud-account.delete', `cloud-account:${a.id}`, { name: a.name });
      reply.status(204);
    },
  );

  app.post(
    '/api/v1/cloud-accounts/:id/sync',
    { schema: { tags, summary: 'Sync instances and Auto Scaling groups now; answers the summary', params: IdParams } },
    async (request) => {
      const user = requireRole(request, 'operator');
      const a = await accountOr404(user.store, (request.params as IdParamsT).id);
      try {
        return await syncCloudAccount(user.store, connector(), a);
      } catch (err) {
        throw toApiError(err);
      }
    },
  );

  app.get(
    '/api/v1/cloud-accounts/:id/instances',
    { schema: { tags, summary: 'Instances the last syncs found, with their computer', params: IdParams } },
    async (request) => {
      const user = requireRole(request, 'auditor');
      const a = await accountOr404(user.store, (request.params as IdParamsT).id);
      return { instances: await user.store.cloud.instances({ accountId: a.id }) };
    },
  );

  app.get(
    '/api/v1/cloud-accounts/:id/auto-scaling-groups',
    { schema: { tags, summary: 'Auto Scaling groups the last syncs found', params: IdParams } },
    async (request) => {
      const user = requireRole(request, 'auditor');
      const a = await accountOr404(user.store, (request.params as IdParamsT).id);
      return { autoScalingGroups: await user.store.cloud.asgs({ accountId: a.id }) };
    },
  );
}
