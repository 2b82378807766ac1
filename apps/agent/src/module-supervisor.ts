import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type EffectiveConfig, EffectiveConfigSchema, type ModuleConfig, type ModuleStatus } from '@palisade/protocol';
import { Value } from 'typebox/value';
import { errorMessage } from './agent-error.ts';
import type { AgentLogger } from './agent-logger.ts';
import type { AgentModule, ModuleContext, ModuleDiagnostic } from './agent-module.ts';
import type { CommandHandler } from './command-poller.ts';
import type { ModuleRegistry } from './module-registry.ts';

export type ModuleEmitter = (module: AgentModule) => ModuleContext['emit'];

export interface ModuleSupervisorOptions {
  registry: ModuleRegistry;
  /** Root under which every module gets `<name>/`. */
  modulesDir: string;
  logger: AgentLogger;
  emitterFor: ModuleEmitter;
  /** How long stop()/start() of one module may take before the agent moves on. */
  lifecycleTimeoutMs?: number;
  /** Adds what the agent knows about a module beyond its own status (artifact problems). */
  annotateStatus?: (module: string, status: ModuleStatus) => ModuleStatus;
}

export type ConfigCheck =
  | { ok: true; config: EffectiveConfig; diagnostics: ModuleDiagnostic[] }
  | { ok: false; diagnostics: ModuleDiagnostic[] };

interface Runtime {
  module: AgentModule;
  supported?: boolean;
  unsupportedReason?: string;
  running: boolean;
  applied?: ModuleConfig;
  error?: string;
  /** Set while a newer configuration for this module was refused and the old one still runs. */
  rejected?: { hash: string; diagnostics: ModuleDiagnostic[] };
}

const OFF_CONFIG: ModuleConfig = { enabled: false, mode: 'off', settings: {} };

function wanted(config: ModuleConfig): boolean {
  return config.enabled && config.mode !== 'off';
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Drives the registered modules through configuration changes. A new configuration is
 * validated by every module first and applied only if none reports an error, so the agent
 * never runs half of one policy and half of another.
 */
export class ModuleSupervisor {
  private readonly runtimes = new Map<string, Runtime>();
  private readonly timeoutMs: number;
  private current: { hash: string; config: EffectiveConfig } | undefined;

  constructor(private readonly options: ModuleSupervisorOptions) {
    this.timeoutMs = options.lifecycleTimeoutMs ?? 30_000;
    for (const module of options.registry.list()) this.runtimes.set(module.name, { module, running: false });
  }

  get configHash(): string {
    return this.current?.hash ?? '';
  }

  get config(): EffectiveConfig | undefined {
    return this.current?.config;
  }

  /** Asks each module once whether the host can run it; a throwing probe counts as unsupported. */
  async probeCapabilities(): Promise<void> {
    for (const rt of this.runtimes.values()) {
      try {
        const caps = await withTimeout(rt.module.capabilities(), this.timeoutMs, `${rt.module.name} capabilities()`);
        rt.supported = caps.supported;
        rt.unsupportedReason = caps.supported ? undefined : (caps.reason ?? 'not supported on this host');
      } catch (err) {
        rt.supported = false;
        rt.unsupportedReason = `capability check failed: ${errorMessage(err)}`;
      }
      if (!rt.supported) {
        this.options.logger.warn({ module: rt.module.name, reason: rt.unsupportedReason }, 'module unsupported on this host');
      }
    }
  }

  /** Schema check plus every module's own configure(); no I/O, nothing changes. */
  check(candidate: unknown): ConfigCheck {
    if (!Value.Check(EffectiveConfigSchema, candidate)) {
      const diagnostics = Value.Errors(EffectiveConfigSchema, candidate)
        .slice(0, 20)
        .map(
          (e): ModuleDiagnostic => ({
            code: 'AGENT_CONFIG_INVALID',
            message: `${e.instancePath || '/'}: ${e.message}`,
            severity: 'error',
            file: 'effective-config',
          }),
        );
      return { ok: false, diagnostics };
    }
    const config = candidate as EffectiveConfig;
    const diagnostics: ModuleDiagnostic[] = [];
    for (const rt of this.runtimes.values()) {
      const mc = config.modules[rt.module.name] ?? OFF_CONFIG;
      if (!wanted(mc)) continue;
      let found: ModuleDiagnostic[];
      try {
        found = rt.module.configure(mc);
      } catch (err) {
        found = [{ code: 'AGENT_MODULE_CONFIGURE_THREW', message: `configure() threw: ${errorMessage(err)}`, severity: 'error' }];
      }
      for (const d of found) diagnostics.push({ ...d, file: d.file ?? `modules.${rt.module.name}` });
    }
    const ok = !diagnostics.some((d) => d.severity === 'error');
    return ok ? { ok, config, diagnostics } : { ok, diagnostics };
  }

  /**
   * Validates and, if everything is valid, applies. On refusal the previous configuration keeps
   * running and the modules that objected say so in their status.
   */
  async apply(candidate: unknown, hash: string): Promise<ConfigCheck> {
    const checked = this.check(candidate);
    if (!checked.ok) {
      this.markRejected(hash, checked.diagnostics);
      return checked;
    }
    await this.commit(checked.config, hash);
    return checked;
  }

  /** A module's own complaints, plus schema errors, which refuse the configuration for every module. */
  markRejected(hash: string, diagnostics: ModuleDiagnostic[]): void {
    for (const rt of this.runtimes.values()) {
      const mine = diagnostics.filter((d) => d.file === `modules.${rt.module.name}` || d.file === 'effective-config');
      if (mine.length > 0) rt.rejected = { hash, diagnostics: mine };
    }
  }

  /** Applies a configuration that check() accepted. */
  async commit(config: EffectiveConfig, hash: string): Promise<void> {
    const { logger } = this.options;
    for (const rt of this.runtimes.values()) {
      const name = rt.module.name;
      const next = config.modules[name] ?? OFF_CONFIG;
      rt.rejected = undefined;
      if (rt.supported === false) continue;
      try {
        if (rt.running && !wanted(next)) {
          await this.stopOne(rt);
          rt.applied = next;
        } else if (!rt.running && wanted(next)) {
          rt.error = undefined;
          const dir = join(this.options.modulesDir, name);
          mkdirSync(dir, { recursive: true, mode: 0o700 });
          const ctx: ModuleContext = {
            emit: this.options.emitterFor(rt.module),
            logger: logger.child({ module: name }),
            dataDir: dir,
            config: next,
          };
          logger.info({ module: name, mode: next.mode }, 'starting module');
          await withTimeout(rt.module.start(ctx), this.timeoutMs, `${name} start()`);
          rt.running = true;
          rt.applied = next;
        } else if (rt.running && JSON.stringify(rt.applied) !== JSON.stringify(next)) {
          logger.info({ module: name, mode: next.mode }, 'reconfiguring module');
          await withTimeout(rt.module.reconfigure(next), this.timeoutMs, `${name} reconfigure()`);
          rt.applied = next;
        } else {
          rt.applied = next;
        }
      } catch (err) {
        rt.error = errorMessage(err);
        logger.error({ module: name, err: rt.error }, 'module failed to apply its configuration');
        if (rt.running) await this.stopOne(rt);
      }
    }
    this.current = { hash, config };
  }

  private async stopOne(rt: Runtime): Promise<void> {
    try {
      this.options.logger.info({ module: rt.module.name }, 'stopping module');
      await withTimeout(rt.module.stop(), this.timeoutMs, `${rt.module.name} stop()`);
    } catch (err) {
      rt.error = `stop failed: ${errorMessage(err)}`;
      this.options.logger.error({ module: rt.module.name, err: rt.error }, 'module stop failed');
    } finally {
      rt.running = false;
    }
  }

  async stopAll(): Promise<void> {
    for (const rt of [...this.runtimes.values()].reverse()) if (rt.running) await this.stopOne(rt);
  }

  /**
   * The manager-command handlers of every registered module, by kind. A kind must start with
   * its module's name and a dot; a handler runs only while its module is running, otherwise the
   * command fails with the reason (so a playbook sees "firewall is not running", not silence).
   */
  commandHandlers(): Record<string, CommandHandler> {
    const out: Record<string, CommandHandler> = {};
    for (const [name, rt] of this.runtimes) {
      for (const [kind, handler] of Object.entries(rt.module.commands ?? {})) {
        if (!kind.startsWith(`${name}.`))
          throw new Error(`module ${name} declares command ${kind}: module commands must start with "${name}."`);
        out[kind] = async (command, signal) => {
          if (!rt.running) {
            const s = this.statusOf(rt);
            throw new Error(`the ${name} module is not running (${s.state}${s.reason ? `: ${s.reason}` : ''})`);
          }
          return handler(command.args, signal);
        };
      }
    }
    return out;
  }

  statuses(): Record<string, ModuleStatus> {
    const out: Record<string, ModuleStatus> = {};
    for (const [name, rt] of this.runtimes) out[name] = this.statusOf(rt);
    return out;
  }

  private statusOf(rt: Runtime): ModuleStatus {
    let status: ModuleStatus;
    if (rt.supported === false) {
      status = { state: 'unsupported', reason: rt.unsupportedReason };
    } else if (rt.error) {
      status = { state: 'error', reason: rt.error.slice(0, 1000) };
    } else if (!rt.running) {
      status = {
        state: 'off',
        reason: this.current ? 'disabled by configuration' : 'waiting for the first configuration',
      };
    } else {
      try {
        status = rt.module.status();
      } catch (err) {
        status = { state: 'error', reason: `status() threw: ${errorMessage(err)}`.slice(0, 1000) };
      }
    }
    if (rt.rejected) {
      const first = rt.rejected.diagnostics[0];
      const reason = `configuration ${rt.rejected.hash} refused (${first.code}: ${first.message}); ${
        rt.running ? 'still running the previous configuration' : 'not started'
      }`;
      status = {
        state: rt.running ? status.state : 'error',
        reason: reason.slice(0, 1000),
        details: { ...(status.details ?? {}), rejectedConfigHash: rt.rejected.hash, configErrors: rt.rejected.diagnostics },
      };
    }
    return this.options.annotateStatus ? this.options.annotateStatus(rt.module.name, status) : status;
  }
}
