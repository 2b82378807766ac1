import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type AgentEvent, AgentEventSchema, type CloudMetadata, type HostFacts } from '@palisade/protocol';
import { Value } from 'typebox/value';
import { AgentError, errorMessage, isAgentError } from './agent-error.ts';
import { type AgentIdentity, readIdentity, readIdentityCa } from './agent-identity.ts';
import { type AgentLogger, createAgentLogger } from './agent-logger.ts';
import type { AgentModule, ModuleContext, ModuleEventInput } from './agent-module.ts';
import type { AgentStatusReport } from './agent-status-report.ts';
import { AGENT_VERSION } from './agent-version.ts';
import { fetchCloudMetadata } from './cloud-metadata.ts';
import { type CommandHandler, CommandPoller } from './command-poller.ts';
import { ArtifactCache } from './artifact-cache.ts';
import { ConfigUpdater, readCachedConfig } from './config-updater.ts';
import { ControlSocketServer } from './control-socket-server.ts';
import { dataDirPaths, ensureDataDir, resolveDataDir } from './data-dir.ts';
import { EventSender } from './event-sender.ts';
import { EventSpool } from './event-spool.ts';
import { HeartbeatLoop } from './heartbeat-loop.ts';
import { InventoryReporter } from './inventory-reporter.ts';
import { collectHostFacts } from './host-facts.ts';
import { LinkState } from './link-state.ts';
import { ManagerClient } from './manager-client.ts';
import { defaultModuleRegistry, type ModuleEnvironment } from './default-module-registry.ts';
import type { ModuleRegistry } from './module-registry.ts';
import { type ConfigCheck, ModuleSupervisor } from './module-supervisor.ts';
import { StartupError, type StartupStep, runStartupSequence } from './startup-sequence.ts';
import { generateTestEvents, parseTestEventsParams, type TestEventsResult } from './test-event-generator.ts';
import { timeOrderedId } from './time-ordered-id.ts';

/** Instance metadata rarely changes (security groups, ASG); an hourly look is plenty. */
const CLOUD_REFRESH_MS = 60 * 60 * 1000;

export interface RunAgentOptions {
  dataDir?: string;
  /**
   * The modules this agent runs, or a factory called once the identity is loaded; default
   * `defaultModuleRegistry` (empty until the protection modules are ready).
   */
  registry?: ModuleRegistry | ((env: ModuleEnvironment) => ModuleRegistry);
  logger?: AgentLogger;
  /** Install SIGTERM/SIGINT handlers that stop the agent (the CLI's foreground daemon does). */
  handleSignals?: boolean;
  /** Extra or replacing command handlers by kind (e.g. `send-inventory` once inventory exists). */
  commandHandlers?: Record<string, CommandHandler>;
  hostFacts?: () => HostFacts;
  /** How long the start-up config fetch may take before the cached configuration is used. */
  startupConfigTimeoutMs?: number;
  commandWaitSeconds?: number;
  /** Filesystem root the inventory is collected from (default `/`). */
  inventoryRoot?: string;
  /** How often the inventory is reported (default 6 h; 0: only on the `send-inventory` command). */
  inventoryIntervalMs?: number;
  /** Delay of the first report after start-up (default 5 s). */
  inventoryFirstDelayMs?: number;
  senderLingerMs?: number;
}

export interface AgentHandle {
  readonly dataDir: string;
  readonly agentId: string;
  status(): AgentStatusReport;
  /** Emits `system` events the same way test-events does. */
  emitTestEvents(count: number, rate?: number): Promise<TestEventsResult>;
  /** Fetches and applies the configuration now (what `update-config` does). */
  updateConfig(): ReturnType<ConfigUpdater['update']>;
  stop(): Promise<void>;
  /** Resolves once the agent has stopped (by stop() or a signal). */
  readonly stopped: Promise<void>;
}

/** Fills in what a module need not know (id, time, its own name) and refuses malformed events. */
export function buildEvent(module: string, input: ModuleEventInput): AgentEvent {
  const event = {
    id: input.id ?? timeOrderedId(),
    time: input.time ?? new Date().toISOString(),
    module,
    type: input.type,
    severity: input.severity,
    message: input.message,
    ...(input.ruleId !== undefined ? { ruleId: input.ruleId } : {}),
    ...(input.details !== undefined ? { details: input.details } : {}),
  };
  if (!Value.Check(AgentEventSchema, event)) {
    const first = Value.Errors(AgentEventSchema, event)[0];
    throw new AgentError(
      'AGENT_EVENT_INVALID',
      `event from ${module} does not match the protocol: ${first ? `${first.instancePath || '/'} ${first.message}` : 'invalid'}`,
    );
  }
  return event as AgentEvent;
}

/**
 * Starts the agent daemon: an ordered list of named steps, each undone in reverse if a later one
 * fails, and all of them undone by stop(). Returns once every step has run.
 */
export async function runAgent(options: RunAgentOptions = {}): Promise<AgentHandle> {
  const dataDir = resolveDataDir(options.dataDir);
  const paths = dataDirPaths(dataDir);
  const logger = options.logger ?? createAgentLogger();
  let cloud: { value?: CloudMetadata; fetchedAt: number; refreshing: boolean } = { fetchedAt: 0, refreshing: false };
  const refreshCloud = async (): Promise<void> => {
    const id = identity;
    if (!id?.cloud || cloud.refreshing) return;
    cloud.refreshing = true;
    try {
      const value = await fetchCloudMetadata(id.cloud, { baseUrl: id.cloudMetadataUrl });
      // a metadata service that hiccups must not wipe what the manager already knows
      cloud = { value: value ?? cloud.value, fetchedAt: Date.now(), refreshing: false };
    } finally {
      cloud.refreshing = false;
    }
  };
  // activation tags and cloud metadata ride along with the live facts so the manager's rules keep seeing them
  const hostFacts = (): HostFacts => {
    let facts = (options.hostFacts ?? collectHostFacts)();
    const tags = identity?.tags;
    if (tags) facts = { ...facts, tags: { ...(facts.tags ?? {}), ...tags } };
    if (identity?.cloud && Date.now() - cloud.fetchedAt > CLOUD_REFRESH_MS && !stopping.signal.aborted) void refreshCloud();
    return cloud.value ? { ...facts, cloud: cloud.value } : facts;
  };
  const link = new LinkState();
  const startedAt = new Date().toISOString();
  // aborted first thing on stop: in-flight config fetches end at once instead of timing out
  const stopping = new AbortController();

  let identity: AgentIdentity | undefined;
  let client: ManagerClient | undefined;
  let spool: EventSpool | undefined;
  let supervisor: ModuleSupervisor | undefined;
  let updater: ConfigUpdater | undefined;
  let artifacts: ArtifactCache | undefined;
  let heartbeat: HeartbeatLoop | undefined;
  let poller: CommandPoller | undefined;
  let inventory: InventoryReporter | undefined;
  let sender: EventSender | undefined;
  let initial: { hash: string; config: unknown; source: string } | undefined;
  let initialCheck: ConfigCheck | undefined;

  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new AgentError('AGENT_NOT_READY', `${what} is not started yet`);
    return value;
  };

  const emitSystem = (type: string, severity: AgentEvent['severity'], message: string, details: Record<string, unknown>) => {
    try {
      need(spool, 'the spool').add(buildEvent('system', { type, severity, message, details }));
    } catch (err) {
      logger.error({ err: errorMessage(err), type }, 'could not spool a system event');
    }
  };

  const emitterFor =
    (module: AgentModule): ModuleContext['emit'] =>
    (input) => {
      const event = buildEvent(module.name, input);
      need(spool, 'the spool').add(event);
      return event;
    };

  const testEvents = (count: number, rate: number | undefined, signal?: AbortSignal) =>
    generateTestEvents(
      { count, rate, signal },
      (events) =>
        need(spool, 'the spool')
          .addMany(events)
          .filter((r) => r.stored).length,
    );

  const status = (): AgentStatusReport => {
    const id = need(identity, 'the identity');
    const counters = need(spool, 'the spool').counters();
    return {
      agentId: id.agentId,
      tenantId: id.tenantId,
      managerUrl: id.managerUrl,
      dataDir,
      agentVersion: AGENT_VERSION,
      pid: process.pid,
      startedAt,
      connection: link.snapshot(),
      lastHeartbeat: heartbeat?.last ?? null,
      heartbeatSeconds: heartbeat?.intervalSeconds ?? id.heartbeatSeconds,
      configHash: supervisor?.configHash ?? '',
      lastConfigError: updater?.lastError ?? null,
      modules: supervisor?.statuses() ?? {},
      spool: counters,
      sender: sender ? { ...sender.counters } : { batchesSent: 0, eventsAcked: 0, failures: 0 },
    };
  };

  const builtinHandlers: Record<string, CommandHandler> = {
    ping: async () => ({ pong: true, agentTime: new Date().toISOString(), agentVersion: AGENT_VERSION }),
    'update-config': async () => {
      const outcome = await need(updater, 'the config updater').update('command');
      if (outcome.status === 'failed') throw new Error(`configuration fetch failed: ${outcome.error}`);
      if (outcome.status === 'refused') {
        throw new Error(`configuration ${outcome.hash} refused: ${outcome.diagnostics[0]?.message ?? 'invalid'}`);
      }
      return { configHash: outcome.hash, outcome: outcome.status };
    },
    'send-inventory': async (command) => {
      const a = command.args as { root?: unknown; appDirs?: unknown };
      return need(inventory, 'the inventory reporter').send({
        ...(typeof a.root === 'string' ? { root: a.root } : {}),
        ...(Array.isArray(a.appDirs) ? { appDirs: a.appDirs.map(String) } : {}),
      });
    },
  };

  const steps: StartupStep[] = [
    {
      name: 'load identity',
      async run() {
        ensureDataDir(dataDir);
        identity = readIdentity(dataDir);
        client = new ManagerClient({
          managerUrl: identity.managerUrl,
          ca: readIdentityCa(dataDir, identity),
          credentials: { agentId: identity.agentId, agentSecret: identity.agentSecret },
        });
        logger.info({ agentId: identity.agentId, managerUrl: identity.managerUrl, dataDir }, 'identity loaded');
        if (identity.cloud) {
          await refreshCloud();
          logger.info({ cloud: cloud.value ?? null }, cloud.value ? 'cloud metadata read' : 'no cloud metadata service answered');
        }
        return () => client?.close();
      },
    },
    {
      name: 'open spool',
      async run() {
        const cached = readCachedConfig(paths.config);
        const cachedMax = (cached?.config as { spool?: { maxBytes?: unknown } } | undefined)?.spool?.maxBytes;
        spool = EventSpool.open(paths.spool, typeof cachedMax === 'number' && cachedMax >= 65536 ? { maxBytes: cachedMax } : {});
        logger.info({ ...spool.counters() }, 'spool opened');
        return () => spool?.close();
      },
    },
    {
      name: 'open control socket',
      async run() {
        const server = new ControlSocketServer(
          paths.socket,
          {
            status: async () => status(),
            'test-events': async (params, signal) => {
              const { count, rate } = parseTestEventsParams(params);
              return testEvents(count, rate, signal);
            },
            // A module's manager command, asked locally by the CLI (e.g. `palisade agent quarantine`).
            'module-command': async (params, signal) => {
              const { kind, args } = params as { kind?: unknown; args?: unknown };
              if (typeof kind !== 'string') throw new AgentError('AGENT_CONTROL_BAD_REQUEST', 'module-command wants {"kind", "args"?}');
              const handler = need(supervisor, 'the module supervisor').commandHandlers()[kind];
              if (!handler) throw new AgentError('AGENT_UNKNOWN_COMMAND', `no module answers the command ${JSON.stringify(kind)}`);
              const a = args && typeof args === 'object' ? (args as Record<string, unknown>) : {};
              return (await handler({ id: 'control-socket', kind, args: a, createdAt: new Date().toISOString() }, signal)) ?? {};
            },
          },
          logger,
        );
        await server.listen();
        return () => server.close();
      },
    },
    {
      name: 'fetch config',
      async run() {
        artifacts = new ArtifactCache({ dir: join(dataDir, 'artifacts'), client: () => need(client, 'the manager client'), logger });
        updater = new ConfigUpdater({
          artifacts,
          client: need(client, 'the manager client'),
          link,
          logger,
          spool: need(spool, 'the spool'),
          get supervisor() {
            return need(supervisor, 'the module supervisor');
          },
          cacheFile: paths.config,
          signal: stopping.signal,
          onApplied: (reason) => {
            if (reason !== 'heartbeat') heartbeat?.nudge();
          },
          emitSystem,
        });
        try {
          const fetched = await updater.fetch(options.startupConfigTimeoutMs ?? 5_000);
          link.ok();
          if (fetched.hash) initial = { ...fetched, source: 'manager' };
        } catch (err) {
          // an agent must protect its host even while the manager is away: fall back to the cache
          link.failed(err);
          const cached = readCachedConfig(paths.config);
          logger.warn(
            { err: errorMessage(err), cachedHash: cached?.hash ?? null },
            cached
              ? 'manager unreachable; starting with the cached configuration'
              : 'manager unreachable and no cached configuration; modules stay off until it answers',
          );
          if (cached) initial = { ...cached, source: 'cache' };
        }
      },
    },
    {
      name: 'configure modules',
      async run() {
        mkdirSync(paths.modules, { recursive: true, mode: 0o700 });
        const id = need(identity, 'the identity');
        const env: ModuleEnvironment = { managerUrl: id.managerUrl, dataDir };
        const source = options.registry ?? defaultModuleRegistry;
        const registry: ModuleRegistry = typeof source === 'function' ? source(env) : source;
        const cache = need(artifacts, 'the artifact cache');
        supervisor = new ModuleSupervisor({
          registry,
          modulesDir: paths.modules,
          logger,
          emitterFor,
          annotateStatus: (name, st) => cache.annotate(name, st),
        });
        await supervisor.probeCapabilities();
        // Signature sets and feeds the configuration names are fetched and verified before any module sees it.
        if (initial) initial = { ...initial, ...(await cache.prepare(initial.hash, initial.config)) };
        if (initial) initialCheck = supervisor.check(initial.config);
        logger.info({ modules: registry.list().map((m) => m.name), configHash: initial?.hash ?? '' }, 'modules configured');
      },
    },
    {
      name: 'start modules',
      async run() {
        const sup = need(supervisor, 'the module supervisor');
        const upd = need(updater, 'the config updater');
        if (initial && initialCheck) {
          if (initialCheck.ok) await upd.commit(initial.hash, initialCheck.config, `start-up (${initial.source})`);
          else upd.refuse(initial.hash, initialCheck.diagnostics, `start-up (${initial.source})`);
        }
        return () => sup.stopAll();
      },
    },
    {
      name: 'start heartbeat loop',
      async run() {
        const id = need(identity, 'the identity');
        heartbeat = new HeartbeatLoop({
          client: need(client, 'the manager client'),
          link,
          logger,
          spool: need(spool, 'the spool'),
          supervisor: need(supervisor, 'the module supervisor'),
          updater: need(updater, 'the config updater'),
          hostFacts,
          initialSeconds: id.heartbeatSeconds,
        });
        heartbeat.start();
        const hb = heartbeat;
        return () => hb.stop();
      },
    },
    {
      name: 'start inventory reporting',
      async run() {
        inventory = new InventoryReporter({ client: need(client, 'the manager client'), logger, root: options.inventoryRoot ?? '/' });
        const interval = options.inventoryIntervalMs ?? 6 * 3600_000;
        if (interval > 0) inventory.start(interval, options.inventoryFirstDelayMs ?? 5000);
        const r = inventory;
        return () => r.stop();
      },
    },
    {
      name: 'start command long-poll',
      async run() {
        poller = new CommandPoller({
          client: need(client, 'the manager client'),
          link,
          logger,
          handlers: {
            ...builtinHandlers,
            ...need(supervisor, 'the module supervisor').commandHandlers(),
            ...(options.commandHandlers ?? {}),
          },
          waitSeconds: options.commandWaitSeconds,
        });
        poller.start();
        const p = poller;
        return () => p.stop();
      },
    },
    {
      name: 'start event sender',
      async run() {
        sender = new EventSender({
          spool: need(spool, 'the spool'),
          client: need(client, 'the manager client'),
          link,
          logger,
          lingerMs: options.senderLingerMs,
        });
        sender.start();
        const s = sender;
        return () => s.stop();
      },
    },
  ];

  let sequence: Awaited<ReturnType<typeof runStartupSequence>>;
  try {
    sequence = await runStartupSequence(steps, logger);
  } catch (err) {
    // keep the cause's stable code (AGENT_NOT_ACTIVATED, AGENT_ALREADY_RUNNING, ...) for the CLI
    stopping.abort();
    if (err instanceof StartupError) {
      const cause = err.cause;
      throw new AgentError(isAgentError(cause) ? cause.code : 'AGENT_STARTUP_FAILED', err.message, {
        step: err.step,
        ...(isAgentError(cause) ? cause.details : {}),
      });
    }
    throw err;
  }
  logger.info({ agentId: identity?.agentId, steps: sequence.started.length }, 'agent started');

  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => {
    resolveStopped = r;
  });
  let stopPromise: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'signal received; shutting down');
    void stop();
  };
  const stop = (): Promise<void> => {
    stopPromise ??= (async () => {
      stopping.abort();
      if (options.handleSignals) {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
      await sequence.shutdown();
      logger.info({}, 'agent stopped');
      resolveStopped();
    })();
    return stopPromise;
  };
  if (options.handleSignals) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }

  return {
    dataDir,
    agentId: need(identity, 'the identity').agentId,
    status,
    emitTestEvents: (count, rate) => testEvents(count, rate),
    updateConfig: () => need(updater, 'the config updater').update('api'),
    stop,
    stopped,
  };
}
