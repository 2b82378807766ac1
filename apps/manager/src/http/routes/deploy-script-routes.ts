import { createReadStream } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { type DeployBundle, listDeployBundles } from '../../services/deploy-bundle-files.ts';
import { renderDeployScript } from '../../services/deploy-script-template.ts';
import { ApiError } from '../api-error.ts';
import { requireRole } from '../request-auth.ts';

const DeployScriptBody = Type.Object(
  {
    platform: Type.Literal('linux'),
    /** Policy id or name; the token (and so the agent) gets this policy. */
    policy: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    group: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    tokenTtlSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 366 * 86400 })),
    /** Hosts that may activate with the script's token (default: unlimited until it expires). */
    maxUses: Type.Optional(Type.Integer({ minimum: 1 })),
    /** The URL hosts reach the manager at (default: the one this request came to). */
    managerUrl: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 2000 })),
    /** The manager's CA (PEM) to pin; without it hosts verify the manager with their trust store. */
    caPem: Type.Optional(Type.String({ maxLength: 65536, pattern: '-----BEGIN CERTIFICATE-----' })),
    /** A relay or mirror serving the same tarball; the checksum is still the manager's. */
    bundleUrl: Type.Optional(Type.String({ pattern: '^(https?|file)://[^\\s]+$', maxLength: 2000 })),
    tags: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.:/-]{1,128}$' }), Type.String({ maxLength: 255 }))),
    cloud: Type.Optional(Type.Literal('aws')),
  },
  { additionalProperties: false },
);
type DeployScriptBodyT = {
  platform: 'linux';
  policy?: string;
  group?: string;
  tokenTtlSeconds?: number;
  maxUses?: number;
  managerUrl?: string;
  caPem?: string;
  bundleUrl?: string;
  tags?: Record<string, string>;
  cloud?: 'aws';
};

function newestBundle(): DeployBundle {
  const [bundle] = listDeployBundles();
  if (!bundle) {
    throw new ApiError(
      409,
      'DEPLOY_BUNDLE_MISSING',
      'the manager has no agent bundle to deploy: build one with `npm run build:agent` or set PALISADE_AGENT_BUNDLE_DIR',
    );
  }
  return bundle;
}

/**
 * The agent bundles, without authentication: they hold only the open-source agent (no secret),
 * and the host that runs a deployment script has no credential before it activates. The script
 * checks the SHA-256 it was generated with, so a swapped file is refused on the host.
 */
export async function deployBundleRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    '/deploy/agent-bundles/:file',
    {
      schema: {
        tags: ['deploy'],
        summary: 'Download an agent bundle tarball or its .sha256 file (no authentication)',
        security: [],
        params: Type.Object({ file: Type.String({ minLength: 1, maxLength: 200 }) }),
      },
    },
    async (request, reply) => {
      const { file } = request.params as { file: string };
      const sumFile = file.endsWith('.sha256');
      const bundle = listDeployBundles().find((b) => b.file === (sumFile ? file.slice(0, -'.sha256'.length) : file));
      if (!bundle) throw new ApiError(404, 'API_NOT_FOUND', `no agent bundle ${file}`);
      if (sumFile) {
        reply.header('content-type', 'text/plain; charset=utf-8');
        return `${bundle.sha256}  ${bundle.file}\n`;
      }
      reply.header('content-type', 'application/gzip');
      reply.header('content-length', String(bundle.size));
      reply.header('x-checksum-sha256', bundle.sha256);
      return reply.send(createReadStream(bundle.path));
    },
  );
}

/** `POST /api/v1/deploy-scripts`: a scoped activation token rendered into a deployment script. */
export async function deployScriptRoutes(app: FastifyInstance): Promise<void> {
  const tags = ['deploy'];

  app.get('/api/v1/deploy/agent-bundles', { schema: { tags, summary: 'The agent bundles this manager serves' } }, async (request) => {
    requireRole(request, 'auditor');
    return { bundles: listDeployBundles().map(({ path: _path, ...b }) => ({ ...b, url: `/deploy/agent-bundles/${b.file}` })) };
  });

  app.post(
    '/api/v1/deploy-scripts',
    {
      schema: {
        tags,
        summary: 'Create an activation token and the deployment script that installs and activates the agent with it',
        body: DeployScriptBody,
      },
    },
    async (request, reply) => {
      const user = requireRole(request, 'operator');
      const body = request.body as DeployScriptBodyT;
      let policy: { id: string; name: string } | undefined;
      if (body.policy) {
        policy = (await user.store.policies.get(body.policy)) ?? (await user.store.policies.list()).find((p) => p.name === body.policy);
        if (!policy)
          throw new ApiError(400, 'API_INVALID_REFERENCE', `no policy with id or name ${JSON.stringify(body.policy)}`, '/policy');
      }
      const bundle = newestBundle();
      const managerUrl = (body.managerUrl ?? `${request.protocol}://${request.host}`).replace(/\/+$/, '');
      const ttlSeconds = body.tokenTtlSeconds ?? 3600;
      const { token, value } = await user.store.tokens.create({
        description: `deployment script (linux${policy ? `, policy ${policy.name}` : ''})`,
        ttlSeconds,
        ...(policy ? { policyId: policy.id } : {}),
        ...(body.group ? { group: body.group } : {}),
        ...(body.maxUses ? { maxUses: body.maxUses } : {}),
      });
      await user.store.audit.record(user.actor, 'deploy-script.create', `activation-token:${token.id}`, {
        policyId: token.policyId,
        group: token.group,
        bundle: bundle.file,
      });
      const script = renderDeployScript({
        managerUrl,
        token: value,
        tokenExpiresAt: token.expiresAt,
        policyName: policy?.name ?? null,
        caPem: body.caPem ?? null,
        bundle: { file: bundle.file, sha256: bundle.sha256, version: bundle.version, url: body.bundleUrl ?? null },
        tags: body.tags ?? {},
        cloud: body.cloud ?? null,
        generatedAt: new Date().toISOString(),
      });
      reply.status(201);
      return {
        platform: body.platform,
        script,
        token: { ...token, token: value },
        managerUrl,
        bundle: {
          file: bundle.file,
          version: bundle.version,
          sha256: bundle.sha256,
          url: body.bundleUrl ?? `${managerUrl}/deploy/agent-bundles/${bundle.file}`,
        },
      };
    },
  );
}
