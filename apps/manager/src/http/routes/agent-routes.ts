import {
  ActivationRequestSchema,
  AGENT_API,
  type AgentCommand,
  CommandResultSchema,
  EventBatchSchema,
  type HeartbeatRequest,
  HeartbeatRequestSchema,
  type InventoryReport,
  InventoryReportSchema,
} from '@palisade/protocol';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { activateAgent } from '../../services/activation-service.ts';
import { effectiveConfigFor } from '../../services/effective-config-service.ts';
import type { ManagerContext } from '../manager-context.ts';
import { authenticateAgent } from '../request-auth.ts';

/** How often a held long-poll re-checks the database for commands queued on another node. */
const CROSS_NODE_POLL_MS = 500;

export async function agentRoutes(app: FastifyInstance, ctx: ManagerContext): Promise<void> {
  const tags = ['agent'];

  app.post(
    AGENT_API.activate,
    { schema: { tags, summary: 'Activate an agent with a token; returns its own credentials', body: ActivationRequestSchema } },
    async (request, reply) => {
      const res = await activateAgent(ctx.stores, request.body as never);
      ctx.metrics.activations.inc();
      reply.status(201);
      const { computerId: _unused, ...body } = res;
      return body;
    },
  );

  // Everything below needs the agent's own credentials.
  app.register(async (scoped) => {
    scoped.addHook('onRequest', async (request) => {
      request.agent = await authenticateAgent(request, ctx.stores);
    });

    scoped.post(AGENT_API.heartbeat, { schema: { tags, summary: 'Heartbeat', body: HeartbeatRequestSchema } }, async (request) => {
      const { store, computer } = request.agent!;
      const { config, hash } = await effectiveConfigFor(store, computer, ctx.policyCache);
      ctx.heartbeats.record(store, computer.id, request.body as HeartbeatRequest, config.heartbeatSeconds, ctx.stores.clock());
      ctx.metrics.heartbeats.inc();
      return { configHash: hash, heartbeatSeconds: config.heartbeatSeconds, serverTime: ctx.stores.clock().toISOString() };
    });

    scoped.get(AGENT_API.config, { schema: { tags, summary: 'The effective configuration of the calling agent' } }, async (request) => {
      const { store, computer } = request.agent!;
      const { config, hash } = await effectiveConfigFor(store, computer, ctx.policyCache);
      return { hash, config };
    });

    scoped.post(
      AGENT_API.events,
      { schema: { tags, summary: 'Send a batch of events (idempotent by event id)', body: EventBatchSchema } },
      async (request) => {
        const { store, computer } = request.agent!;
        const { events } = request.body as { events: Parameters<typeof store.events.ingest>[1] };
        const res = await store.events.ingest(computer.id, events);
        ctx.metrics.eventsIngested.inc(res.inserted);
        ctx.onEventsIngested?.(store.tenantId, computer.id, events.length);
        // Playbooks evaluate behind the answer: ingest never waits for AWS.
        ctx.playbooks?.onEventsStored(store, computer.id, events);
        return { acked: events.map((e) => e.id), ...res };
      },
    );

    scoped.post(
      AGENT_API.inventory,
      {
        schema: { tags, summary: 'Report the software inventory; a changed one queues a recommendation scan', body: InventoryReportSchema },
      },
      async (request) => {
        const { store, computer } = request.agent!;
        const { hash, changed } = await store.inventory.save(computer.id, request.body as InventoryReport);
        if (changed)
          await store.jobs.enqueue(
            'recommendation-scan',
            { computerId: computer.id, trigger: 'inventory-changed' },
            { dedupeKey: `recscan:${computer.id}:${hash}` },
          );
        return { hash, changed };
      },
    );

    scoped.get(
      AGENT_API.commands,
      {
        schema: {
          tags,
          summary: 'Long-poll for commands: held until a command is queued or waitSeconds pass',
          querystring: Type.Object({ waitSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 30, default: 0 })) }),
        },
      },
      async (request) => {
        const { store, computer } = request.agent!;
        const waitMs = ((request.query as { waitSeconds?: number }).waitSeconds ?? 0) * 1000;
        const deadline = Date.now() + waitMs;
        const closed = new AbortController();
        request.raw.on('close', () => closed.abort());
        let commands: AgentCommand[] = await store.commands.takeQueued(computer.id);
        while (commands.length === 0 && Date.now() < deadline && !closed.signal.aborted && !ctx.closing.aborted) {
          await ctx.notifier.wait(computer.id, Math.min(CROSS_NODE_POLL_MS, deadline - Date.now()), closed.signal);
          commands = await store.commands.takeQueued(computer.id);
        }
        return { commands };
      },
    );

    scoped.post(
      '/api/agent/v1/commands/:id/result',
      {
        schema: { tags, summary: 'Report the result of a command', params: Type.Object({ id: Type.String() }), body: CommandResultSchema },
      },
      async (request, reply) => {
        const { store, computer } = request.agent!;
        const ok = await store.commands.complete(computer.id, (request.params as { id: string }).id, request.body as never);
        if (!ok)
          return reply.status(404).send({ statusCode: 404, code: 'API_NOT_FOUND', error: 'Not Found', message: 'command not found' });
        return { ok: true };
      },
    );
  });
}
