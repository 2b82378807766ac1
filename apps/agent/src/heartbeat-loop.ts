import {
  AGENT_API,
  type HeartbeatRequest,
  type HeartbeatResponse,
  HeartbeatResponseSchema,
  type HostFacts,
  type ModuleStatus,
  ModuleStatusSchema,
} from '@palisade/protocol';
import { Value } from 'typebox/value';
import { errorMessage } from './agent-error.ts';
import type { AgentLogger } from './agent-logger.ts';
import { sleep } from './backoff.ts';
import type { ConfigUpdater } from './config-updater.ts';
import type { EventSpool } from './event-spool.ts';
import type { LinkState } from './link-state.ts';
import type { ManagerClient } from './manager-client.ts';
import type { ModuleSupervisor } from './module-supervisor.ts';

export interface HeartbeatLoopOptions {
  client: ManagerClient;
  link: LinkState;
  logger: AgentLogger;
  spool: EventSpool;
  supervisor: ModuleSupervisor;
  updater: ConfigUpdater;
  hostFacts: () => HostFacts;
  /** Interval before any configuration or heartbeat answer says otherwise (from activation). */
  initialSeconds: number;
}

export interface HeartbeatSnapshot {
  at: string;
  ok: boolean;
  error?: string;
}

/**
 * Reports the agent's state at the configured interval and notices configuration changes:
 * the answer carries the hash the agent should run, and a differing hash triggers a fetch.
 */
export class HeartbeatLoop {
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private answeredSeconds: number | undefined;
  private nap: AbortController | undefined;
  last: HeartbeatSnapshot | null = null;

  constructor(private readonly options: HeartbeatLoopOptions) {}

  get intervalSeconds(): number {
    return this.options.supervisor.config?.heartbeatSeconds ?? this.answeredSeconds ?? this.options.initialSeconds;
  }

  start(): void {
    this.loop = this.run();
  }

  /**
   * Beats now instead of at the end of the current interval: after a configuration arrived by
   * command, so the manager sees the new hash at once and a new interval takes effect.
   */
  nudge(): void {
    this.nap?.abort();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.abort.signal.aborted) {
      await this.beat();
      // ±5 % so that agents started together (a fleet rollout) do not heartbeat in lockstep
      this.nap = new AbortController();
      const wake = () => this.nap?.abort();
      this.abort.signal.addEventListener('abort', wake, { once: true });
      await sleep(this.intervalSeconds * 1000 * (0.95 + 0.1 * Math.random()), this.nap.signal);
      this.abort.signal.removeEventListener('abort', wake);
    }
  }

  /** Statuses that do not match the protocol would make the manager refuse the whole heartbeat. */
  private moduleStatuses(): Record<string, ModuleStatus> {
    const out: Record<string, ModuleStatus> = {};
    for (const [name, status] of Object.entries(this.options.supervisor.statuses())) {
      out[name] = Value.Check(ModuleStatusSchema, status)
        ? status
        : { state: 'error', reason: 'module reported a status that does not match the protocol' };
    }
    return out;
  }

  async beat(): Promise<void> {
    const { client, link, logger, spool, supervisor, updater } = this.options;
    const counters = spool.counters();
    const body: HeartbeatRequest = {
      host: this.options.hostFacts(),
      configHash: supervisor.configHash,
      modules: this.moduleStatuses(),
      spool: { pending: counters.pending, dropped: counters.dropped },
    };
    let answer: HeartbeatResponse;
    try {
      answer = await client.call<HeartbeatResponse>('POST', AGENT_API.heartbeat, HeartbeatResponseSchema, body, {
        signal: this.abort.signal,
        timeoutMs: 15_000,
      });
    } catch (err) {
      if (this.abort.signal.aborted) return;
      link.failed(err);
      this.last = { at: new Date().toISOString(), ok: false, error: errorMessage(err) };
      logger.warn({ err: errorMessage(err) }, 'heartbeat failed');
      return;
    }
    link.ok();
    this.last = { at: new Date().toISOString(), ok: true };
    if (answer.heartbeatSeconds >= 1) this.answeredSeconds = answer.heartbeatSeconds;
    if (answer.configHash !== supervisor.configHash && !updater.isKnownBad(answer.configHash)) {
      await updater.update('heartbeat');
    }
  }
}
