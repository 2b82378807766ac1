import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModuleConfig, ModuleStatus, Severity } from '@palisade/protocol';
import { type AppSecDocument, loadAppSecRules, loadRuleSet } from '@palisade/seclang';
import { parse as parseYaml } from 'yaml';
import type { AgentModule, ModuleCapabilities, ModuleContext, ModuleDiagnostic } from '../../agent-module.ts';
import { buildIpsRuleSet, type IpsRuleSet } from './build-ips-rule-set.ts';
import { parseTrustedProxies } from './client-address.ts';
import { type AggregatedDetection, EventAggregator } from './event-aggregator.ts';
import { InlineProxy } from './inline-proxy.ts';
import { InspectionPool } from './inspection-pool.ts';
import { MiddlewareListener } from './middleware-listener.ts';
import type { IpsDetection } from './ips-event.ts';
import { type IpsSettings, parseIpsSettings } from './ips-settings.ts';
import { readPatchPack } from './read-patch-pack.ts';
import type { NftScriptRunner } from '../../run-nft-script.ts';
import { TransparentRedirect } from './transparent-redirect.ts';
import { globFiles, readFileOrUndefined } from './rule-files.ts';

export interface IpsModuleOptions {
  /** Clock for event windows; tests pass their own. */
  now?: () => number;
  /** How often closed aggregation windows are flushed to the spool. */
  flushIntervalMs?: number;
  /** Runs nft scripts for transparent mode (tests pass a recorder). */
  nft?: NftScriptRunner;
}

/** Compiles the policy's own SecLang and CrowdSec rules on their own, without any file access. */
export function checkInlineRules(s: IpsSettings): ModuleDiagnostic[] {
  const out: ModuleDiagnostic[] = [];
  const custom = s.ruleSets.seclang ?? [];
  if (custom.length) {
    const r = loadRuleSet(custom.map((c) => ({ name: `custom:${c.name}`, text: c.text })));
    if (!r.ok) out.push(...r.diagnostics);
  }
  const docs: AppSecDocument[] = [];
  for (const c of s.ruleSets.crowdsec ?? []) {
    try {
      docs.push({ file: `crowdsec:${c.name}`, doc: parseYaml(c.yaml) });
    } catch (e) {
      out.push({ code: 'IPS_CROWDSEC_YAML', message: (e as Error).message, severity: 'error', file: `crowdsec:${c.name}` });
    }
  }
  if (docs.length) {
    const r = loadAppSecRules(docs);
    if (!r.ok) out.push(...r.diagnostics);
  }
  return out;
}

const SEVERITY: Record<IpsDetection['action'], Severity> = {
  blocked: 'high',
  detected: 'medium',
  'fail-open': 'high',
  'fail-closed': 'medium',
};

/**
 * Intrusion prevention as an agent module: one inline proxy per protected service, each running
 * the SecLang engine with the assigned rule sets. configure() validates settings without I/O;
 * start() reads the rule files and opens the listeners.
 */
export class IpsModule implements AgentModule {
  readonly name = 'ips';
  private ctx: ModuleContext | undefined;
  private settings: IpsSettings | undefined;
  private readonly proxies = new Map<string, InlineProxy>();
  private aggregator: EventAggregator | undefined;
  private timer: NodeJS.Timeout | undefined;
  private state: ModuleStatus = { state: 'off' };
  private ruleCounts: Record<string, number> = {};
  private redirect: TransparentRedirect | undefined;
  private pools = new Map<string, InspectionPool>();
  private middleware: MiddlewareListener | undefined;

  constructor(private readonly options: IpsModuleOptions = {}) {}

  async capabilities(): Promise<ModuleCapabilities> {
    return { supported: true };
  }

  configure(config: ModuleConfig): ModuleDiagnostic[] {
    const { settings, diagnostics } = parseIpsSettings(config);
    if (!settings) return diagnostics;
    // Rules that travel inside the policy are compiled now (pure), so a broken custom rule is
    // refused before anything is applied; rules on disk are loaded by start().
    const inline = checkInlineRules(settings);
    if (inline.length) return [...diagnostics, ...inline];
    this.settings = settings;
    return diagnostics;
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private emit(d: AggregatedDetection): void {
    const verb = d.action === 'blocked' ? 'blocked' : d.action === 'detected' ? 'detected' : d.action;
    this.ctx?.emit({
      type: `ips.${d.action}`,
      severity: SEVERITY[d.action],
      message: `${d.service}: ${verb} ${d.requestLine.slice(0, 200)} from ${d.clientAddress}${d.cves.length ? ` (${d.cves.join(', ')})` : ''}${d.count > 1 ? ` x${d.count}` : ''}`,
      ruleId: String(d.ruleId),
      details: {
        service: d.service,
        action: d.action,
        ruleId: d.ruleId,
        cves: d.cves,
        msg: d.msg,
        clientAddress: d.clientAddress,
        peerAddress: d.peerAddress,
        requestLine: d.requestLine,
        matchedData: d.matchedData,
        count: d.count,
        firstSeen: new Date(d.firstSeen).toISOString(),
        lastSeen: new Date(d.lastSeen).toISOString(),
        ...(d.status !== undefined ? { status: d.status } : {}),
      },
    });
  }

  private onDetection = (d: IpsDetection): void => {
    const first = this.aggregator?.add(d, this.now());
    if (first) this.emit(first);
  };

  private flush(all = false): void {
    for (const a of this.aggregator?.flush(this.now(), all) ?? []) this.emit(a);
  }

  private loadRules(s: IpsSettings): Map<string, IpsRuleSet> {
    const patches = s.ruleSets.patches ? readPatchPack(s.ruleSets.patches.dir) : [];
    const files = { readFile: readFileOrUndefined, glob: globFiles, patches };
    const out = new Map<string, IpsRuleSet>();
    // Services with the same patch assignment share one compiled rule set.
    const cache = new Map<string, IpsRuleSet>();
    for (const svc of s.services) {
      const key = JSON.stringify(svc.patches ?? null);
      let rs = cache.get(key);
      if (!rs) {
        const r = buildIpsRuleSet(s, files, svc.patches);
        if (!r.ok) throw new Error(r.diagnostics.map((d) => `${d.file ?? ''}: ${d.code}: ${d.message}`).join('\n'));
        rs = r.value;
        cache.set(key, rs);
      }
      out.set(svc.name, rs);
    }
    return out;
  }

  private async apply(s: IpsSettings): Promise<void> {
    const rules = this.loadRules(s);
    const { cidrs } = parseTrustedProxies(s.trustedProxies);
    this.aggregator ??= new EventAggregator(s.eventWindowSeconds * 1000);
    const wanted = new Set(s.services.map((x) => x.name));
    for (const [name, p] of this.proxies) {
      if (!wanted.has(name)) {
        await p.stop();
        this.proxies.delete(name);
      }
    }
    this.ruleCounts = {};
    // Worker mode: one engine worker per distinct patch assignment, replaced on every apply.
    const oldPools = this.pools;
    this.pools = new Map();
    if (s.engineWorker) {
      for (const svc of s.services) {
        const key = JSON.stringify(svc.patches ?? null);
        if (this.pools.has(key)) continue;
        const pool = new InspectionPool(s, svc.patches, s.engineWorker.timeoutMs);
        await pool.start();
        this.pools.set(key, pool);
      }
    }
    for (const svc of s.services) {
      const pool = this.pools.get(JSON.stringify(svc.patches ?? null));
      const remote = pool
        ? {
            remote: (req: Parameters<InspectionPool['inspect']>[0], body?: Uint8Array) => pool.inspect(req, body),
            bodyLimit: s.bodyLimit,
            bodyLimitAction: s.bodyLimitAction,
          }
        : {};
      const rs = rules.get(svc.name)!;
      this.ruleCounts[svc.name] = rs.ruleSet.ruleCount;
      const mode = svc.mode ?? s.mode;
      const existing = this.proxies.get(svc.name);
      if (existing) {
        existing.update({
          ruleSet: rs.ruleSet,
          mode,
          detectOnly: rs.detectOnly,
          cveByRule: rs.cveByRule,
          trustedProxies: cidrs,
          blockStatus: s.blockStatus,
          blockPage: s.blockPage,
          failMode: s.failMode,
          remote: undefined,
          ...remote,
        });
        continue;
      }
      const tls = svc.tls ? { cert: readFileSync(svc.tls.certFile), key: readFileSync(svc.tls.keyFile) } : undefined;
      const p = new InlineProxy({
        name: svc.name,
        listen: svc.listen,
        upstream: svc.upstream,
        ...(tls ? { tls } : {}),
        mode,
        ruleSet: rs.ruleSet,
        detectOnly: rs.detectOnly,
        cveByRule: rs.cveByRule,
        trustedProxies: cidrs,
        blockStatus: s.blockStatus,
        blockPage: s.blockPage,
        failMode: s.failMode,
        matchedDataMax: s.matchedDataMax,
        ...remote,
        onDetection: this.onDetection,
        onError: (err) => this.ctx?.logger.warn({ err: String(err), service: svc.name }, 'ips engine error'),
      });
      await p.start();
      this.proxies.set(svc.name, p);
    }
    for (const p of oldPools.values()) await p.stop();
    // Redirect only once every proxy listens: traffic is never sent to a closed port.
    const redirects = s.services
      .filter((x) => x.transparent)
      .map((x) => ({ service: x.name, port: x.transparent!.port, toPort: x.listen.port }));
    if (redirects.length || this.redirect) {
      this.redirect ??= new TransparentRedirect(this.options.nft);
      await this.redirect.apply(redirects);
    }
  }

  async start(ctx: ModuleContext): Promise<void> {
    this.ctx = ctx;
    // configure() may have seen a candidate the agent then refused: start from the config given.
    const { settings, diagnostics } = parseIpsSettings(ctx.config);
    if (!settings) throw new Error(diagnostics.map((d) => d.message).join('; '));
    this.settings = settings;
    this.state = { state: 'starting' };
    try {
      await this.apply(this.settings!);
    } catch (err) {
      this.state = { state: 'error', reason: String((err as Error).message ?? err).slice(0, 1000) };
      throw err;
    }
    // Node apps running @palisade/ips-middleware report here (best effort: a failure to open the
    // socket, e.g. a path too long for sun_path, leaves the proxies running).
    const sockPath = join(ctx.dataDir, 'middleware.sock');
    this.middleware = new MiddlewareListener(sockPath, this.onDetection, parseTrustedProxies(this.settings.trustedProxies).cidrs);
    await this.middleware.start().catch((err) => {
      ctx.logger.warn({ err: String(err), path: sockPath }, 'ips: middleware report socket not available');
      this.middleware = undefined;
    });
    this.timer = setInterval(() => this.flush(), this.options.flushIntervalMs ?? 5000);
    this.timer.unref();
    this.state = { state: 'running' };
  }

  async reconfigure(config: ModuleConfig): Promise<void> {
    const diags = this.configure(config);
    if (diags.some((d) => d.severity === 'error')) throw new Error(diags.map((d) => d.message).join('; '));
    await this.apply(this.settings!);
    this.middleware?.setTrusted(parseTrustedProxies(this.settings!.trustedProxies).cidrs);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.flush(true);
    // Stop redirecting before the proxies close, so the service takes its traffic back directly.
    await this.redirect?.remove().catch((err) => this.ctx?.logger.warn({ err: String(err) }, 'ips: removing the nftables redirect failed'));
    for (const p of this.proxies.values()) await p.stop();
    this.proxies.clear();
    for (const p of this.pools.values()) await p.stop();
    this.pools.clear();
    await this.middleware?.stop();
    this.middleware = undefined;
    this.state = { state: 'off' };
  }

  /** Where each service listens now (port 0 in settings means "pick one", used by tests). */
  listening(): Record<string, { host: string; port: number }> {
    const out: Record<string, { host: string; port: number }> = {};
    for (const [name, p] of this.proxies) {
      const a = p.address();
      if (a) out[name] = { host: a.address, port: a.port };
    }
    return out;
  }

  status(): ModuleStatus {
    if (this.state.state !== 'running') return this.state;
    const services: Record<string, unknown> = {};
    for (const [name, p] of this.proxies) services[name] = { ...p.counters, rules: this.ruleCounts[name] ?? 0, listen: p.address()?.port };
    const workerRestarts = [...this.pools.values()].reduce((n, p) => n + p.restarts, 0);
    if (this.pools.size) return { state: 'running', details: { services, engineWorkers: this.pools.size, workerRestarts } };
    return { state: 'running', details: { services } };
  }
}
