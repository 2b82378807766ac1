import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { createSender } from '../../forwarding/create-sender.ts';
import type { ForwardedEvent } from '../../forwarding/forwarded-event.ts';
import {
  type ForwarderFilter,
  ForwarderFilterSchema,
  type ForwarderSecrets,
  type ForwarderSettings,
  type ForwarderType,
  SnsSettingsSchema,
  type SyslogSettings,
  SyslogSettingsSchema,
  WebhookSettingsSchema,
} from '../../forwarding/forwarder-config.ts';
import { parseHostPort } from '../../forwarding/host-port.ts';
import { ApiError, notFound } from '../api-error.ts';
import type { ManagerContext } from '../manager-context.ts';
import { requireRole } from '../request-auth.ts';
import { IdParams, type IdParamsT, Name } from './common-schemas.ts';

const Secret = (max = 20_000) => Type.String({ minLength: 1, maxLength: max });
const Common = { name: Name, filter: Type.Optional(ForwarderFilterSchema), enabled: Type.Optional(Type.Boolean()) };

const CreateBody = Type.Union([
  Type.Object(
    {
      ...Common,
      type: Type.Literal('syslog'),
      settings: SyslogSettingsSchema,
      secrets: Type.Optional(Type.Object({ clientKeyPem: Type.Optional(Secret(100_000)) }, { additionalProperties: false })),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      ...Common,
      type: Type.Literal('webhook'),
      settings: WebhookSettingsSchema,
      secrets: Type.Object({ secret: Type.String({ minLength: 16, maxLength: 1000 }) }, { additionalProperties: false }),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      ...Common,
      type: Type.Literal('sns'),
      settings: SnsSettingsSchema,
      secrets: Type.Optional(Type.Object({ secretAccessKey: Type.Optional(Secret(200)) }, { additionalProperties: false })),
    },
    { additionalProperties: false },
  ),
]);

interface CreateInput {
  name: string;
  type: ForwarderType;
  settings: ForwarderSettings;
  secrets?: ForwarderSecrets;
  filter?: ForwarderFilter;
  enabled?: boolean;
}

const invalid = (message: string, field: string) => new ApiError(400, 'FORWARDER_INVALID', message, field);

/** What the schema cannot say: fields that only make sense together. */
function checkCombination(b: CreateInput): void {
  if (b.type === 'syslog') {
    const s = b.settings as SyslogSettings;
    try {
      parseHostPort(s.address);
    } catch (err) {
      throw invalid((err as Error).message, '/settings/address');
    }
    if (s.protocol !== 'tls') {
      for (const k of ['caPem', 'serverName', 'clientCertPem'] as const)
        if (s[k] !== undefined) throw invalid(`${k} applies to protocol tls only`, `/settings/${k}`);
    }
    if (Boolean(s.clientCertPem) !== Boolean(b.secrets?.clientKeyPem))
      throw invalid('a client certificate needs its key (secrets.clientKeyPem) and the other way round', '/secrets/clientKeyPem');
  }
  if (b.type === 'sns') {
    const s = b.settings as { accessKeyId?: string };
    if (Boolean(s.accessKeyId) !== Boolean(b.secrets?.secretAccessKey))
      throw invalid('accessKeyId and secrets.secretAccessKey go together (neither: the AWS default chain)', '/secrets/secretAccessKey');
  }
}

/** The event `test` sends: marked as a test so a SIEM rule can drop it. */
function testEvent(tenantId: string, now: Date): ForwardedEvent {
  return {
    id: randomUUID(),
    time: now.toISOString(),
    module: 'system',
    type: 'forwarder-test',
    severity: 'info',
    message: 'Palisade forwarder test event',
    details: { test: true },
    tenantId,
    computerId: '00000000-0000-0000-0000-000000000000',
    hostname: 'palisade-manager',
    group: null,
    ips: [],
    instanceId: null,
    receivedAt: now.toISOString(),
  };
}

export async function forwarderRoutes(app: FastifyInstance, ctx: Pick<ManagerContext, 'stores'>): Promise<void> {
  const tags = ['forwarders'];

  app.get('/api/v1/forwarders', { schema: { tags, summary: 'List event forwarders (secrets are never returned)' } }, async (request) => {
    const user = requireRole(request, 'auditor');
    return { forwarders: await user.store.forwarders.list() };
  });

  app.post(
    '/api/v1/forwarders',
    {
      schema: {
        tags,
        summary: 'Create an event forwarder: syslog (CEF, LEEF, JSON over UDP/TCP/TLS), signed webhook or AWS SNS',
        body: CreateBody,
      },
    },
    async (request, reply) => {
      const user = requireRole(request, 'admin');
      const body = request.body as CreateInput;
      checkCombination(body);
      const f = await user.store.forwarders.create(body);
      await user.store.audit.record(user.actor, 'forwarder.create', `forwarder:${f.id}`, { name: f.name, type: f.type });
      reply.status(201);
      return f;
    },
  );

  app.get(
    '/api/v1/forwarders/:id',
    { schema: { tags, summary: 'One forwarder and its delivery state', params: IdParams } },
    async (request) => {
      const user = requireRole(request, 'auditor');
      const f = await user.store.forwarders.get((request.params as IdParamsT).id);
      if (!f) throw notFound('forwarder');
      return f;
    },
  );

  app.patch(
    '/api/v1/forwarders/:id',
    {
      schema: {
        tags,
        summary: 'Pause or resume a forwarder (while paused, new events are not queued for it)',
        params: IdParams,
        body: Type.Object({ enabled: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
      },
    },
    async (request) => {
      const user = requireRole(request, 'admin');
      const { id } = request.params as IdParamsT;
      const { enabled } = request.body as { enabled?: boolean };
      const f = enabled === undefined ? await user.store.forwarders.get(id) : await user.store.forwarders.setEnabled(id, enabled);
      if (!f) throw notFound('forwarder');
      await user.store.audit.record(user.actor, 'forwarder.update', `forwarder:${id}`, { enabled });
      return f;
    },
  );

  app.delete(
    '/api/v1/forwarders/:id',
    { schema: { tags, summary: 'Delete a forwarder and its undelivered events', params: IdParams } },
    async (request, reply) => {
      const user = requireRole(request, 'admin');
      const { id } = request.params as IdParamsT;
      if (!(await user.store.forwarders.delete(id))) throw notFound('forwarder');
      await user.store.audit.record(user.actor, 'forwarder.delete', `forwarder:${id}`);
      reply.status(204);
    },
  );

  app.post(
    '/api/v1/forwarders/:id/test',
    {
      schema: {
        tags,
        summary: 'Send one test event now, outside the outbox, and report whether the receiver took it',
        params: IdParams,
      },
    },
    async (request) => {
      const user = requireRole(request, 'operator');
      const { id } = request.params as IdParamsT;
      const f = await user.store.forwarders.get(id);
      if (!f) throw notFound('forwarder');
      const sender = createSender(f, await user.store.forwarders.secretsOf(id), ctx.stores.clock);
      const event = testEvent(user.store.tenantId, ctx.stores.clock());
      try {
        await sender.send([event]);
        return { delivered: true, eventId: event.id };
      } catch (err) {
        return { delivered: false, eventId: event.id, error: (err as Error).message || String(err) };
      } finally {
        await sender.close();
      }
    },
  );
}
