import { lookup } from 'node:dns/promises';
import type { ModuleConfig, ModuleStatus } from '@palisade/protocol';
import {
  type AggregatedFirewallEvent,
  compileRuleset,
  type CompileOptions,
  EventAggregator,
  type FirewallPolicy,
  loadPolicy,
  parseAddressRange,
  parseFirewallLogLine,
} from '@palisade/firewall';
import type { AgentModule, ModuleCapabilities, ModuleContext, ModuleDiagnostic } from '../../agent-module.ts';
import type { CommandRunner } from './command-runner.ts';
import type { LogSubscription } from './kernel-log.ts';
import { NftablesFirewall } from './nftables-firewall.ts';

export interface FirewallModuleOptions {
  run?: CommandRunner;
  netns?: string;
  isRoot?: () => boolean;
  /** The manager this agent talks to: always kept open by the failsafe, whatever the policy says. */
  manager?: { address: string; port: number };
  /**
   * A manager known by name: resolved (as the agent's own connections resolve it) before every
   * apply, and the address it has now is kept open by the failsafe.
   */
  managerHost?: { host: string; port: number };
  /** Name resolution for `managerHost` (default: the system resolver, `dns.lookup`). */
  lookup?: (host: string) => Promise<string>;
  /** Reachability check for test-apply (e.g. a heartbeat); without it, applies are not probed. */
  probe?: () => Promise<boolean>;
  /** Where firewall log lines come from (`kernelLog` on a real host); without it, no events. */
  logSource?: LogSubscription;
  /** Events are aggregated per rule/source/destination/port over this window (default 10 s). */
  eventWindowMs?: number;
  now?: () => number;
}

const SEVERITY: Record<string, 'info' | 'low' | 'medium' | 'high'> = {
  deny: 'medium',
  block: 'medium',
  scan: 'high',
  log: 'low',
  allow: 'info',
  'force-allow': 'info',
  bypass: 'info',
};

/**
 * Detect mode must never drop traffic: every rule only logs, and the stateful drops are off.
 * Allow rules become log-only too, so no implicit deny is generated.
 */
function detectOnly(p: FirewallPolicy): FirewallPolicy {
  return {
    ...p,
    rules: p.rules.map((r) => ({ ...r, action: 'log-only' as const, log: false })),
    blockList: [],
    stateful: { ...p.stateful, dropInvalid: false, antiEvasion: false, maxConnectionsPerSource: undefined, portScan: undefined },
  };
}

/**
 * The firewall as an agent module: settings `{ policy: <YAML text>, testApplySeconds?: n }`.
 * configure() loads and compiles (pure); start()/reconfigure() apply through NftablesFirewall;
 * stop() removes Palisade's tables (a disabled firewall filters nothing).
 */
const defaultLookup = async (host: string): Promise<string> => (await lookup(host)).address;

export class FirewallModule implements AgentModule {
  readonly name = 'firewall';
  private fw: NftablesFirewall | undefined;
  private ctx: ModuleContext | undefined;
  private state: ModuleStatus = { state: 'off' };
  private ruleCount = 0;
  private readonly aggregator: EventAggregator;
  private unsubscribe: (() => void) | undefined;
  private flushTimer: ReturnType<typeof setInterval> | undefined;
  private readonly now: () => number;
  /** The address `managerHost` resolved to at the last apply. */
  private resolvedManager: { address: string; port: number } | undefined;

  constructor(private readonly options: FirewallModuleOptions = {}) {
    this.aggregator = new EventAggregator(options.eventWindowMs ?? 10_000);
    this.now = options.now ?? Date.now;
  }

  /** Emits the aggregated events whose window has closed (all of them with `all`). */
  flushEvents(all = false): AggregatedFirewallEvent[] {
    const events = this.aggregator.flush(this.now(), all);
    for (const e of events) {
      const where = `${e.src ?? '?'} -> ${e.dst ?? '?'}${e.proto ? ` ${e.proto}` : ''}${e.dstPort !== undefined ? `/${e.dstPort}` : ''}`;
      this.ctx?.emit({
        type: e.kind === 'scan' ? 'firewall.port-scan' : `firewall.${e.kind}`,
        severity: SEVERITY[e.kind] ?? 'low',
        message: `${e.kind} by ${e.rule}: ${where}${e.count > 1 ? ` (${e.count} packets)` : ''}`,
        ruleId: e.rule,
        details: { ...e },
      });
    }
    return events;
  }

  private probeFirewall(dir: string): NftablesFirewall {
    return new NftablesFirewall({
      stateDir: dir,
      ...(this.options.run ? { run: this.options.run } : {}),
      ...(this.options.netns ? { netns: this.options.netns } : {}),
      ...(this.options.isRoot ? { isRoot: this.options.isRoot } : {}),
    });
  }

  async capabilities(): Promise<ModuleCapabilities> {
    const st = await this.probeFirewall('/nonexistent').status();
    return st.state === 'unsupported' ? { supported: false, reason: st.reason ?? 'nftables unavailable' } : { supported: true };
  }

  private compileOptions(): CompileOptions {
    const m = this.options.manager ?? this.resolvedManager;
    if (!m) return {};
    const r = parseAddressRange(m.address);
    return typeof r === 'string' ? {} : { failsafe: { manager: { address: r, port: m.port } } };
  }

  private build(config: ModuleConfig): { text?: string; ruleCount: number; diagnostics: ModuleDiagnostic[]; noPolicy?: true } {
    const file = 'modules.firewall.policy';
    const policy = config.settings.policy;
    // Enabled without a policy (e.g. the quickstart): nothing to enforce, which is not an error.
    if (policy === undefined) return { ruleCount: 0, diagnostics: [], noPolicy: true };
    if (typeof policy !== 'string') {
      return {
        ruleCount: 0,
        diagnostics: [
          { code: 'FW_SCHEMA', message: 'settings.policy must be the policy YAML text', severity: 'error', file: 'modules.firewall' },
        ],
      };
    }
    const t = config.settings.testApplySeconds;
    if (t !== undefined && (typeof t !== 'number' || !Number.isInteger(t) || t < 1 || t > 600)) {
      return {
        ruleCount: 0,
        diagnostics: [
          { code: 'FW_SCHEMA', message: 'settings.testApplySeconds must be 1..600', severity: 'error', file: 'modules.firewall' },
        ],
      };
    }
    const loaded = loadPolicy(policy, file);
    if (!loaded.ok) return { ruleCount: 0, diagnostics: loaded.diagnostics };
    const p = config.mode === 'detect' ? detectOnly(loaded.value) : loaded.value;
    const compiled = compileRuleset(p, this.compileOptions());
    const diagnostics = [...loaded.diagnostics, ...compiled.diagnostics.map((d) => ({ ...d, file: d.file ?? file }))];
    return compiled.ok ? { text: compiled.value.text, ruleCount: compiled.value.ruleCount, diagnostics } : { ruleCount: 0, diagnostics };
  }

  configure(config: ModuleConfig): ModuleDiagnostic[] {
    if (!config.enabled || config.mode === 'off') return [];
    return this.build(config).diagnostics;
  }

  async start(ctx: ModuleContext): Promise<void> {
    this.ctx = ctx;
    this.fw = this.probeFirewall(ctx.dataDir);
    await this.applyConfig(ctx.config);
    if (this.options.logSource) {
      this.unsubscribe = this.options.logSource((line) => {
        const entry = parseFirewallLogLine(line);
        if (entry) this.aggregator.add(entry, this.now());
      });
      this.flushTimer = setInterval(() => this.flushEvents(), Math.min(this.options.eventWindowMs ?? 10_000, 10_000));
      this.flushTimer.unref?.();
    }
  }

  async reconfigure(config: ModuleConfig): Promise<void> {
    await this.applyConfig(config);
  }

  /** Resolves `managerHost`; a failed lookup keeps the address found before (if any). */
  private async resolveManager(ctx: ModuleContext): Promise<void> {
    const h = this.options.managerHost;
    if (!h || this.options.manager) return;
    try {
      const address = await (this.options.lookup ?? defaultLookup)(h.host);
      if (address !== this.resolvedManager?.address)
        ctx.logger.info({ manager: h.host, address }, 'firewall failsafe follows the manager address');
      this.resolvedManager = { address, port: h.port };
    } catch (err) {
      ctx.logger.warn({ manager: h.host, err: (err as Error).message }, 'cannot resolve the manager for the firewall failsafe');
    }
  }

  private async applyConfig(config: ModuleConfig): Promise<void> {
    const fw = this.fw;
    const ctx = this.ctx;
    if (!fw || !ctx) return;
    await this.resolveManager(ctx);
    const built = this.build(config);
    if (built.noPolicy) {
      // A policy that was withdrawn takes its ruleset with it; with none applied, nothing to do.
      const res = this.ruleCount > 0 ? await fw.remove() : { ok: true as const };
      this.ruleCount = 0;
      this.state = res.ok
        ? { state: 'running', reason: 'no firewall policy configured: nothing is enforced', details: { ruleCount: 0, mode: config.mode } }
        : { state: 'error', reason: `could not remove the previous ruleset: ${res.error ?? ''}`.slice(0, 1000) };
      return;
    }
    if (!built.text) {
      this.state = { state: 'error', reason: 'policy refused (configure() should have caught this)' };
      return;
    }
    this.state = { state: 'starting' };
    const seconds = config.settings.testApplySeconds;
    const res =
      this.options.probe && typeof seconds === 'number'
        ? await fw.testApply(built.text, { probe: this.options.probe, seconds })
        : { ...(await fw.apply(built.text)), kept: true };
    if (!res.ok || !res.kept) {
      ctx.emit({
        type: 'firewall.apply-failed',
        severity: 'high',
        message: `firewall policy not applied; the previous ruleset stays in force: ${res.error ?? 'unknown error'}`,
      });
      this.state = { state: 'error', reason: (res.error ?? 'apply failed').slice(0, 1000) };
      return;
    }
    this.ruleCount = built.ruleCount;
    ctx.emit({
      type: 'firewall.applied',
      severity: 'info',
      message: `firewall policy applied (${built.ruleCount} nft rules, mode ${config.mode})`,
    });
    this.state = { state: 'running', details: { ruleCount: built.ruleCount, mode: config.mode } };
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.flushTimer = undefined;
    this.flushEvents(true);
    if (this.fw) await this.fw.remove();
    this.fw = undefined;
    this.ctx = undefined;
    this.state = { state: 'off' };
  }

  /** Dynamic block from a playbook or an operator. */
  async block(addr: string, seconds: number) {
    if (!this.fw) return { ok: false, error: 'the firewall module is not running' };
    return this.fw.block(addr, seconds);
  }

  async unblock(addr: string) {
    if (!this.fw) return { ok: false, error: 'the firewall module is not running' };
    return this.fw.unblock(addr);
  }

  /**
   * `firewall.block {address, seconds}` and `firewall.unblock {address}` from the manager
   * (`palisade firewall block --computers`, playbooks). Each is recorded as an event so the
   * manager's timeline shows who was blocked where, and for how long.
   */
  readonly commands = {
    'firewall.block': async (args: Record<string, unknown>) => {
      const address = String(args.address ?? '');
      const seconds = Number(args.seconds ?? 3600);
      const res = await this.block(address, seconds);
      if (!res.ok) throw new Error(res.error ?? 'block failed');
      this.ctx?.emit({
        type: 'firewall.blocked',
        severity: 'medium',
        message: `${address} blocked for ${seconds}s`,
        details: { address, seconds, ...(typeof args.reason === 'string' ? { reason: args.reason } : {}) },
      });
      return { address, seconds, until: new Date(this.now() + seconds * 1000).toISOString() };
    },
    'firewall.unblock': async (args: Record<string, unknown>) => {
      const address = String(args.address ?? '');
      const res = await this.unblock(address);
      if (!res.ok) throw new Error(res.error ?? 'unblock failed');
      this.ctx?.emit({ type: 'firewall.unblocked', severity: 'info', message: `${address} unblocked`, details: { address } });
      return { address };
    },
  };

  status(): ModuleStatus {
    return this.state.state === 'running' ? { ...this.state, details: { ...this.state.details, ruleCount: this.ruleCount } } : this.state;
  }
}
