import type { Diagnostic } from '@palisade/diagnostics';
import type { AgentEvent, ModuleConfig, ModuleStatus, Severity } from '@palisade/protocol';
import type { AgentLogger } from './agent-logger.ts';

/** Modules return their engines' diagnostics unchanged; `file` defaults to `modules.<name>`. */
export type ModuleDiagnostic = Diagnostic;

/** What a module hands to `emit`; the agent fills in id, time and module when absent. */
export interface ModuleEventInput {
  id?: string;
  time?: string;
  type: string;
  severity: Severity;
  message: string;
  ruleId?: string;
  details?: Record<string, unknown>;
}

export interface ModuleContext {
  /** Writes the event to the spool (synchronously: it is on disk when this returns). */
  emit(event: ModuleEventInput): AgentEvent;
  logger: AgentLogger;
  /** The module's own directory, `<data-dir>/modules/<name>`, created before start. */
  dataDir: string;
  /** The configuration the module starts with; later changes arrive through reconfigure(). */
  config: ModuleConfig;
}

/**
 * A command a module answers (e.g. `firewall.block`, `anti-malware.restore`): returns the
 * `result` object, throws to answer `failed`. Only called while the module is running.
 */
export type ModuleCommandHandler = (args: Record<string, unknown>, signal: AbortSignal) => Promise<Record<string, unknown> | undefined>;

export interface ModuleCapabilities {
  supported: boolean;
  /** Why not, in words a person can act on ("needs root", "nft not found"). */
  reason?: string;
}

/**
 * One protection module as the agent drives it. The agent calls, in this order:
 * `capabilities()` once; `configure(config)` for every new configuration, on all modules,
 * before applying any (pure validation, no I/O: an error diagnostic keeps the previous
 * configuration everywhere); then `start(ctx)` / `reconfigure(config)` / `stop()` as the
 * configuration enables, changes or disables the module. `status()` is read for heartbeats.
 */
export interface AgentModule {
  readonly name: string;
  capabilities(): Promise<ModuleCapabilities>;
  configure(config: ModuleConfig): ModuleDiagnostic[];
  start(ctx: ModuleContext): Promise<void>;
  reconfigure(config: ModuleConfig): Promise<void>;
  stop(): Promise<void>;
  status(): ModuleStatus;
  /**
   * Manager commands this module answers, by kind. Kinds are prefixed with the module's name
   * and a dot (`firewall.block`) so two modules never claim the same kind; the supervisor
   * routes them and answers `failed` while the module is not running.
   */
  readonly commands?: Readonly<Record<string, ModuleCommandHandler>>;
}
