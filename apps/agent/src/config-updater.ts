import { AGENT_API, type EffectiveConfig } from '@palisade/protocol';
import { errorMessage } from './agent-error.ts';
import { writePrivateFile } from './agent-identity.ts';
import type { AgentLogger } from './agent-logger.ts';
import type { ModuleDiagnostic } from './agent-module.ts';
import type { EventSpool } from './event-spool.ts';
import type { LinkState } from './link-state.ts';
import { httpError, type ManagerClient } from './manager-client.ts';
import type { ModuleSupervisor } from './module-supervisor.ts';
import { readFileSync } from 'node:fs';

export interface ConfigError {
  hash: string;
  at: string;
  diagnostics: ModuleDiagnostic[];
}

export interface ConfigUpdaterOptions {
  client: ManagerClient;
  link: LinkState;
  logger: AgentLogger;
  spool: EventSpool;
  supervisor: ModuleSupervisor;
  /** Where the last applied configuration is cached for starts without a manager. */
  cacheFile: string;
  /** Reports a refused configuration as a `system` event so the manager sees it too. */
  /** Called after a configuration was applied, with the reason it was fetched. */
  onApplied?: (reason: string) => void;
  /** Aborted when the agent stops, so that shutdown does not wait for a slow manager. */
  signal?: AbortSignal;
  emitSystem: (type: string, severity: 'info' | 'medium', message: string, details: Record<string, unknown>) => void;
  /** Fetches and verifies the signature sets and feeds the configuration names (ArtifactCache). */
  artifacts?: { prepare(hash: string, config: unknown): Promise<{ hash: string; config: unknown }> };
}

export type UpdateOutcome =
  | { status: 'applied' | 'unchanged'; hash: string }
  | { status: 'refused'; hash: string; diagnostics: ModuleDiagnostic[] }
  | { status: 'failed'; error: string };

/** A cached `{hash, config}` from an earlier run, or undefined when there is none or it is unreadable. */
export function readCachedConfig(path: string): { hash: string; config: unknown } | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { hash?: unknown; config?: unknown };
    if (typeof parsed.hash === 'string' && parsed.config && typeof parsed.config === 'object') {
      return { hash: parsed.hash, config: parsed.config };
    }
  } catch {
    // no cache yet, or a damaged one: the manager will send the configuration again
  }
  return undefined;
}

/**
 * Fetches the effective configuration and applies it through the supervisor. Updates are
 * serialized: a heartbeat and an `update-config` command arriving together fetch once each,
 * one after the other, never interleaved.
 */
export class ConfigUpdater {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly refused = new Set<string>();
  lastError: ConfigError | null = null;

  constructor(private readonly options: ConfigUpdaterOptions) {}

  isKnownBad(hash: string): boolean {
    return this.refused.has(hash);
  }

  /** Fetches the configuration from the manager (no apply). */
  async fetch(timeoutMs = 15_000): Promise<{ hash: string; config: unknown }> {
    const res = await this.options.client.request('GET', AGENT_API.config, undefined, { timeoutMs, signal: this.options.signal });
    if (res.status < 200 || res.status >= 300) throw httpError(res, AGENT_API.config);
    const body = res.body as { hash?: unknown; config?: unknown } | null;
    if (!body || typeof body !== 'object' || typeof body.hash !== 'string' || !('config' in body)) {
      return { hash: '', config: undefined };
    }
    // the config itself is checked by the supervisor, which reports every problem with its path
    return { hash: body.hash, config: body.config };
  }

  update(reason: string): Promise<UpdateOutcome> {
    const next = this.chain.then(() => this.updateNow(reason));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async updateNow(reason: string): Promise<UpdateOutcome> {
    const { logger, link, supervisor } = this.options;
    let fetched: { hash: string; config: unknown };
    try {
      fetched = await this.fetch();
    } catch (err) {
      if (this.options.signal?.aborted) return { status: 'failed', error: 'the agent is stopping' };
      link.failed(err);
      logger.warn({ err: errorMessage(err), reason }, 'configuration fetch failed');
      return { status: 'failed', error: errorMessage(err) };
    }
    link.ok();
    if (fetched.hash === supervisor.configHash && fetched.hash !== '') return { status: 'unchanged', hash: fetched.hash };
    return this.apply(fetched.hash, fetched.config, reason);
  }

  /** Validates and applies; used for fetched and for cached configurations alike. */
  async apply(hash: string, config: unknown, reason: string): Promise<UpdateOutcome> {
    const prepared = this.options.artifacts ? await this.options.artifacts.prepare(hash, config) : { hash, config };
    const checked = this.options.supervisor.check(prepared.config);
    if (!checked.ok) return this.refuse(hash, checked.diagnostics, reason);
    return this.commit(prepared.hash, checked.config, reason);
  }

  refuse(hash: string, diagnostics: ModuleDiagnostic[], reason: string): UpdateOutcome {
    const { logger, supervisor } = this.options;
    this.refused.add(hash);
    supervisor.markRejected(hash, diagnostics);
    this.lastError = { hash, at: new Date().toISOString(), diagnostics };
    logger.error({ hash, reason, diagnostics: diagnostics.slice(0, 5) }, 'configuration refused; keeping the previous one');
    this.options.emitSystem(
      'config-refused',
      'medium',
      `configuration ${hash} refused: ${diagnostics[0]?.message ?? 'invalid'}`.slice(0, 4000),
      { hash, runningHash: supervisor.configHash, diagnostics: diagnostics.slice(0, 20) },
    );
    return { status: 'refused', hash, diagnostics };
  }

  /** Applies a configuration the supervisor's check() accepted. */
  async commit(hash: string, config: EffectiveConfig, reason: string): Promise<UpdateOutcome> {
    const { logger, supervisor, spool } = this.options;
    await supervisor.commit(config, hash);
    this.lastError = null;
    const dropped = spool.setMaxBytes(config.spool.maxBytes);
    if (dropped > 0) logger.warn({ dropped, maxBytes: config.spool.maxBytes }, 'smaller spool bound dropped events');
    try {
      writePrivateFile(this.options.cacheFile, `${JSON.stringify({ hash, config })}\n`);
    } catch (err) {
      logger.warn({ err: errorMessage(err) }, 'could not cache the configuration');
    }
    logger.info({ hash, reason }, 'configuration applied');
    this.options.onApplied?.(reason);
    return { status: 'applied', hash };
  }
}
