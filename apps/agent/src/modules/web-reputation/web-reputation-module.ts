import { statSync } from 'node:fs';
import type { ModuleConfig, ModuleStatus, Severity } from '@palisade/protocol';
import { parseRisk, type ReputationPolicy, ReputationStore, type Verdict } from '@palisade/web-reputation';
import type { AgentModule, ModuleCapabilities, ModuleContext, ModuleDiagnostic } from '../../agent-module.ts';
import { loadFeedFiles } from '../../webrep/feed-file-loader.ts';
import { emitWithSocketOwner, SocketOwnerLookup } from '../../webrep/socket-owner.ts';
import { DnsFilter } from './dns-filter.ts';
import { OutboundProxy, type WebVia } from './outbound-proxy.ts';
import { type NftScriptRunner, runNftScript } from '../../run-nft-script.ts';
import { outboundRedirectScript } from './outbound-redirect.ts';
import { parseWebReputationSettings, type WebReputationSettings } from './web-reputation-settings.ts';

export interface WebReputationModuleOptions {
  nft?: NftScriptRunner;
  now?: () => number;
  /** Repeats of the same blocked destination within this window are counted, not re-sent. */
  eventWindowMs?: number;
  /** Names the process and user behind a local client in block events (default on; false: off). */
  socketOwners?: SocketOwnerLookup | false;
}

const SEVERITY: Record<string, Severity> = { dangerous: 'high', 'highly suspicious': 'medium', suspicious: 'low', untested: 'low' };

interface FeedState {
  file: string;
  name: string;
  mtimeMs: number;
  entries: number;
  applied: boolean;
}

/**
 * Web reputation on the host: an outbound proxy (explicit, or transparent through nftables) and
 * a filtering DNS forwarder, both judging destinations against the feeds in the policy. Feed
 * files are re-read when they change; a new version that does not parse leaves the old one in
 * force and says so in an event.
 */
export class WebReputationModule implements AgentModule {
  readonly name = 'web-reputation';
  private ctx: ModuleContext | undefined;
  private settings: WebReputationSettings | undefined;
  private store = new ReputationStore();
  private policy: ReputationPolicy = { level: 'medium', blockUntested: false };
  private proxy: OutboundProxy | undefined;
  private dns: DnsFilter | undefined;
  private redirected = false;
  private reloadTimer: NodeJS.Timeout | undefined;
  private feeds: FeedState[] = [];
  private listening: { proxy?: number; tls?: number; dns?: number } = {};
  private readonly recent = new Map<string, { at: number; repeats: number }>();
  private state: ModuleStatus = { state: 'off' };
  private readonly nft: NftScriptRunner;
  private readonly now: () => number;
  private readonly owners: SocketOwnerLookup | undefined;

  constructor(private readonly options: WebReputationModuleOptions = {}) {
    this.nft = options.nft ?? runNftScript;
    this.now = options.now ?? Date.now;
    this.owners = options.socketOwners === false ? undefined : (options.socketOwners ?? new SocketOwnerLookup());
  }

  async capabilities(): Promise<ModuleCapabilities> {
    return { supported: true };
  }

  configure(config: ModuleConfig): ModuleDiagnostic[] {
    if (!config.enabled || config.mode === 'off') return [];
    const { diagnostics, settings } = parseWebReputationSettings(config.settings);
    if (!settings) return diagnostics;
    const out = [...diagnostics];
    for (const f of settings.feeds) {
      if (f.risk !== undefined && parseRisk(f.risk) === undefined)
        out.push({
          code: 'WEBREP_SETTINGS_INVALID',
          message: `feed ${f.file}: unknown risk ${JSON.stringify(f.risk)}`,
          severity: 'error',
          file: 'modules.web-reputation',
        });
    }
    if (settings.proxy?.transparent && process.getuid?.() !== 0)
      out.push({
        code: 'WEBREP_NEEDS_ROOT',
        message: 'transparent mode installs nftables rules: run the agent as root',
        severity: 'error',
        file: 'modules.web-reputation',
      });
    return out;
  }

  async start(ctx: ModuleContext): Promise<void> {
    this.ctx = ctx;
    await this.apply(ctx.config);
  }

  async reconfigure(config: ModuleConfig): Promise<void> {
    await this.teardown();
    await this.apply(config);
  }

  async stop(): Promise<void> {
    await this.teardown();
    this.ctx = undefined;
    this.state = { state: 'off' };
  }

  /** Where the listeners are (ports chosen by the OS when the policy says 0). */
  listeningPorts(): { proxy?: number; tls?: number; dns?: number } {
    return { ...this.listening };
  }

  /** The verdict the module gives right now (also what `palisade webrep check` computes offline). */
  judge(url: string): Verdict {
    return this.store.evaluate(url, this.policy);
  }

  private async apply(config: ModuleConfig): Promise<void> {
    const { settings } = parseWebReputationSettings(config.settings);
    if (!settings) throw new Error('settings refused (configure() reports why)');
    this.settings = settings;
    this.policy = { level: settings.level, blockUntested: settings.blockUntested };
    this.store = new ReputationStore();
    this.feeds = [];
    this.loadFeeds(true);
    const detectOnly = config.mode === 'detect';
    const judge = (url: string) => this.judge(url);
    if (settings.proxy) {
      this.proxy = new OutboundProxy({
        judge,
        detectOnly,
        onBlock: (v, via, client) => this.report(v, via, client, detectOnly),
        hosts: () => this.settings?.hosts ?? {},
      });
      const t = settings.proxy.transparent;
      const ports = await this.proxy.listen(
        settings.proxy.listen,
        t ? { host: settings.proxy.listen.host, port: t.tlsListenPort } : undefined,
      );
      this.listening.proxy = ports.http.port;
      if (ports.tls) this.listening.tls = ports.tls.port;
      if (t) {
        await this.nft(
          outboundRedirectScript({ httpPorts: t.httpPorts, httpTo: ports.http.port, tlsTo: ports.tls?.port, exemptUids: t.exemptUids }),
        );
        this.redirected = true;
      }
    }
    if (settings.dns) {
      this.dns = new DnsFilter({ ...settings.dns, judge, detectOnly, onBlock: (v, client) => this.report(v, 'dns', client, detectOnly) });
      this.listening.dns = (await this.dns.start()).port;
    }
    this.reloadTimer = setInterval(() => this.loadFeeds(false), settings.reloadSeconds * 1000);
    this.reloadTimer.unref?.();
    this.refreshState();
  }

  private async teardown(): Promise<void> {
    if (this.reloadTimer) clearInterval(this.reloadTimer);
    this.reloadTimer = undefined;
    if (this.redirected) {
      // Take the redirect away first: traffic must never be sent to a proxy that is gone.
      await this.nft(outboundRedirectScript(undefined)).catch(() => undefined);
      this.redirected = false;
    }
    await this.proxy?.close();
    await this.dns?.stop();
    this.proxy = undefined;
    this.dns = undefined;
    this.listening = {};
  }

  /** (Re)loads feed files whose modification time changed; the first load reads them all. */
  private loadFeeds(initial: boolean): void {
    const settings = this.settings;
    if (!settings) return;
    for (const f of settings.feeds) {
      const name = f.name ?? f.file;
      let mtimeMs = 0;
      let size = -1;
      try {
        const st = statSync(f.file);
        mtimeMs = st.mtimeMs;
        size = st.size;
      } catch {
        // reported by loadFeedFiles below as unreadable
      }
      const known = this.feeds.find((s) => s.file === f.file);
      if (!initial && known && known.mtimeMs === mtimeMs) continue;
      if (known && known.entries > 0 && size === 0) {
        // An empty file where a list was is a download cut short, not a decision to unblock all.
        known.mtimeMs = mtimeMs;
        this.ctx?.emit({
          type: 'webrep.feed-refused',
          severity: 'medium',
          message: `feed ${f.file} is empty; the previous version (${known.entries} entries) stays in force`,
          details: { file: f.file, applied: false, diagnostics: [] },
        });
        continue;
      }
      const risk = f.risk !== undefined ? parseRisk(f.risk) : undefined;
      const [r] = loadFeedFiles(this.store, [f.file], {
        ...(f.list ? { list: f.list } : {}),
        ...(risk ? { risk } : {}),
        ...(f.category ? { category: f.category } : {}),
      });
      if (!r) continue;
      // loadFeedFiles names a feed after its file; keep one name per configured feed.
      const state: FeedState = { file: f.file, name, mtimeMs, entries: r.entries, applied: r.applied };
      if (known) Object.assign(known, state);
      else this.feeds.push(state);
      if (!r.applied || r.diagnostics.some((d) => d.severity === 'error')) {
        this.ctx?.emit({
          type: 'webrep.feed-refused',
          severity: 'medium',
          message:
            `feed ${f.file} ${r.applied ? 'loaded with errors' : 'refused; the previous version stays in force'}: ${r.diagnostics[0]?.message ?? r.error ?? ''}`.slice(
              0,
              900,
            ),
          details: { file: f.file, applied: r.applied, diagnostics: r.diagnostics.slice(0, 20) },
        });
      }
    }
    if (!initial) this.refreshState();
  }

  private report(v: Verdict, via: WebVia | 'dns', client: string, detectOnly: boolean): void {
    const key = `${via}\u0000${v.url}`;
    const now = this.now();
    const prev = this.recent.get(key);
    const window = this.options.eventWindowMs ?? 60_000;
    if (prev && now - prev.at < window) {
      prev.repeats++;
      return;
    }
    this.recent.set(key, { at: now, repeats: 0 });
    if (this.recent.size > 10_000) for (const [k, e] of this.recent) if (now - e.at >= window) this.recent.delete(k);
    // The process and user are looked up after the answer and added when found (bounded, cached).
    emitWithSocketOwner(this.ctx, this.owners, via === 'dns' ? 'udp' : 'tcp', client, {
      time: new Date(now).toISOString(),
      type: detectOnly ? 'webrep.detected' : 'webrep.blocked',
      severity: SEVERITY[v.risk] ?? 'medium',
      message: `${detectOnly ? 'would block' : 'blocked'} ${v.url} (${v.risk}${v.category ? `, ${v.category}` : ''})`,
      details: {
        url: v.url,
        risk: v.risk,
        category: v.category,
        feed: v.feed,
        action: detectOnly ? 'detect' : 'block',
        via,
        ...(client ? { client } : {}),
        ...(prev?.repeats ? { repeatsInPreviousWindow: prev.repeats } : {}),
      },
    });
  }

  private refreshState(): void {
    const maxAgeMs = (this.settings?.feedMaxAgeHours ?? 48) * 3600_000;
    const stale = this.feeds.filter((f) => f.mtimeMs > 0 && this.now() - f.mtimeMs > maxAgeMs).map((f) => f.file);
    const unusable = this.feeds.filter((f) => !f.applied).map((f) => f.file);
    const reasons = [
      ...(!this.settings?.proxy && !this.settings?.dns ? ['no proxy or DNS filter configured: nothing is enforced'] : []),
      ...(stale.length ? [`stale feeds (older than ${this.settings?.feedMaxAgeHours} h): ${stale.join(', ')}`] : []),
      ...(unusable.length ? [`unusable feeds: ${unusable.join(', ')}`] : []),
    ];
    this.state = {
      state: 'running',
      ...(reasons.length ? { reason: reasons.join('; ').slice(0, 1000) } : {}),
      details: {
        level: this.policy.level,
        entries: this.store.size,
        feeds: this.feeds.map((f) => ({
          file: f.file,
          entries: f.entries,
          applied: f.applied,
          updatedAt: f.mtimeMs ? new Date(f.mtimeMs).toISOString() : null,
        })),
        staleFeeds: stale,
        listening: this.listening,
        transparent: this.redirected,
        proxy: this.proxy ? { ...this.proxy.counters } : null,
        dns: this.dns ? { ...this.dns.counters } : null,
      },
    };
  }

  status(): ModuleStatus {
    if (this.state.state === 'running') this.refreshState();
    return this.state;
  }
}
