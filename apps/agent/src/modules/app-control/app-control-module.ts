import { statSync } from 'node:fs';
import { AppControlPolicy, type AppControlMode, DriftTracker, diffInventory, parseDuration, type Ruleset } from '@palisade/app-control';
import type { ModuleConfig, ModuleStatus } from '@palisade/protocol';
import { HashPool } from '../../fim/hash-pool.ts';
import { releaseGarbage } from '../../fim/release-garbage.ts';
import type { AgentModule, ModuleCapabilities, ModuleContext, ModuleDiagnostic } from '../../agent-module.ts';
import { type AppControlSettings, parseAppControlSettings } from './app-control-settings.ts';
import { defaultMarks } from './default-marks.ts';
import type { Observation, PolicySnapshot } from './enforcement-messages.ts';
import { EnforcementWorker } from './enforcement-worker.ts';
import { probeGate } from './gate-binary.ts';
import type { GateMarks } from './gate-process.ts';
import { type InventoryEntry, type ScanProgress, scanInventory } from './inventory-scanner.ts';
import { loadPackageDatabase } from './package-database.ts';
import { InventoryStore, type LearnedHash } from './inventory-store.ts';
import { userName } from './user-names.ts';

export interface AppControlModuleOptions {
  /** The fanotify-gate binary (default: apps/agent/native/build/fanotify-gate). */
  gateBinary?: string;
  /** Tests only: hold every verdict this long, to exercise the decision timeout. */
  decisionDelayMs?: number;
  now?: () => number;
  /** Tests only: awaited before the first inventory walks, to hold the module in "building baseline". */
  beforeInventory?: () => Promise<void>;
  /** Package databases to read (tests point this at fixtures); default: the host's. */
  packageDatabase?: Parameters<typeof loadPackageDatabase>[0];
}

export interface DiskCheckResult {
  /** Executables under the roots now. */
  files: number;
  /** New and changed since the baseline (allowed or not). */
  added: number;
  changed: number;
  /** Drift events sent (new, not allowed, not reported before). */
  reported: number;
}

/** The baseline's state: `building` until the first inventory of the configured roots exists. */
type BaselineState =
  | { state: 'ready' }
  | { state: 'building'; startedAt: number; progress: ScanProgress }
  | { state: 'failed'; reason: string };

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Application control: inventories what can run under the configured roots (the approved
 * baseline), then decides every exec and every library/loader open on the marked filesystems
 * through the fanotify-gate helper (ADR 0006). Unknown or blocked software is drift: reported
 * once per (path, hash) and, depending on the mode, refused. Maintenance mode lets new software
 * in and makes it part of the baseline.
 */
export class AppControlModule implements AgentModule {
  readonly name = 'app-control';
  private ctx: ModuleContext | undefined;
  private settings: AppControlSettings | undefined;
  private store: InventoryStore | undefined;
  private files = new Map<string, InventoryEntry>();
  private learned = new Map<string, LearnedHash>();
  private local = new Map<string, 'allow' | 'block'>();
  private scannedRoots: string[] = [];
  private scannedExclude: string[] = [];
  private baseline: BaselineState = { state: 'building', startedAt: 0, progress: { phase: 'walking', files: 0, toHash: 0, hashed: 0 } };
  /** The background inventory (start, new roots): awaited by stop() and by a newer build. */
  private building:
    | {
        /** The walk and hashing: ends soon after an abort. */
        scan: Promise<void>;
        /** The scan and the hand-over to enforcement (which waits its turn in the lifecycle queue). */
        promise: Promise<void>;
        abort: AbortController;
        roots: string[];
        exclude: string[];
      }
    | undefined;
  /** Lifecycle calls and the background build's hand-over run one at a time. */
  private serial: Promise<unknown> = Promise.resolve();
  private packageSources: string[] = [];
  /** The last disk check's scan: its hashes are reused by the next one (the baseline stays as it is). */
  private diskScan: Map<string, InventoryEntry> | undefined;
  private diskTimer: ReturnType<typeof setInterval> | undefined;
  private diskTimerMinutes = 0;
  private diskCheck: Promise<DiskCheckResult> | undefined;
  private lastDiskCheck: (DiskCheckResult & { at: string }) | undefined;
  private scannedAt: string | undefined;
  private readonly drift = new DriftTracker();
  private enforcement: EnforcementWorker | undefined;
  private enforcedMarks: GateMarks | undefined;
  private enforcedTimeout = 0;
  private enforcedDetect = false;
  private maintenanceUntil: number | undefined;
  private maintenanceTimer: ReturnType<typeof setTimeout> | undefined;
  private state: ModuleStatus = { state: 'off' };
  private counters = { blocked: 0, drift: 0, timeouts: 0, learned: 0 };
  private hashImpl = '';
  private readonly now: () => number;

  constructor(private readonly options: AppControlModuleOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  async capabilities(): Promise<ModuleCapabilities> {
    const p = await probeGate(this.options.gateBinary);
    return p.ok ? { supported: true } : { supported: false, ...(p.reason ? { reason: p.reason } : {}) };
  }

  configure(config: ModuleConfig): ModuleDiagnostic[] {
    if (!config.enabled || config.mode === 'off') return [];
    return parseAppControlSettings(config).diagnostics;
  }

  /**
   * Returns as soon as enforcement runs: the first inventory of a host takes minutes, far longer
   * than the agent's lifecycle timeout, so it runs in the background (`status()` shows its
   * progress). Until the baseline exists nothing is refused for being unknown (see
   * enforcedMode()).
   */
  async start(ctx: ModuleContext): Promise<void> {
    this.ctx = ctx;
    this.store = new InventoryStore(ctx.dataDir);
    const stored = this.store.load();
    this.files = stored.files;
    this.learned = stored.learned;
    this.local = stored.local;
    this.scannedRoots = stored.roots;
    this.scannedExclude = stored.exclude ?? [];
    this.scannedAt = stored.scannedAt;
    await this.run(() => this.apply(ctx.config));
  }

  async reconfigure(config: ModuleConfig): Promise<void> {
    await this.run(() => this.apply(config));
  }

  private run<T>(f: () => Promise<T>): Promise<T> {
    const next = this.serial.then(f, f);
    this.serial = next.catch(() => undefined);
    return next;
  }

  /** Resolves once the background inventory (if any) is over; tests and the bench wait with it. */
  async settled(): Promise<void> {
    await this.building?.promise;
    await this.serial;
  }

  /**
   * The mode the helper runs in. Without a baseline every program is "unknown": refusing them
   * would stop the host, so block-unrecognized runs as block-explicit (explicit block rules and
   * the global block list still apply; unknown software is not refused) until the baseline exists.
   */
  private enforcedMode(): AppControlMode {
    const mode = this.settings?.mode ?? 'off';
    return mode === 'block-unrecognized' && this.baseline.state !== 'ready' ? 'block-explicit' : mode;
  }

  private async apply(config: ModuleConfig): Promise<void> {
    const parsed = parseAppControlSettings(config);
    if (!parsed.settings) {
      this.state = { state: 'error', reason: 'settings refused (configure() should have caught this)' };
      return;
    }
    const s = parsed.settings;
    this.settings = s;
    // Content the manager now allows (a reviewed drift) is no longer drift here either.
    for (const r of s.rulesets)
      for (const rule of r.rules) if (rule.kind === 'hash' && rule.action === 'allow') this.drift.resolve(rule.sha256);
    if (s.maintenanceUntil !== undefined) await this.setMaintenance(s.maintenanceUntil);
    this.scheduleDiskChecks(s.mode === 'off' ? 0 : s.diskCheckMinutes);
    if (s.mode === 'off') {
      await this.abortBuild();
      await this.stopEnforcement();
      this.state = { state: 'off' };
      return;
    }
    this.state = { state: 'starting' };
    // A first start (or new roots) takes the inventory: what is installed now is the baseline.
    const stale = this.files.size === 0 || !sameList(this.scannedRoots, s.roots) || !sameList(this.scannedExclude, s.exclude);
    if (stale) {
      if (!this.building) {
        this.baseline = {
          state: 'building',
          startedAt: this.now(),
          progress: { phase: 'walking', files: 0, toHash: 0, hashed: 0 },
        };
      }
    } else if (!this.building) this.baseline = { state: 'ready' };
    if (!(await this.ensureEnforcement())) return;
    this.state = { state: 'running' };
    // A reconfigure during the first inventory (a reviewed drift, a new ruleset) lets it go on;
    // new roots or exclusions restart it, as its result would be for the old ones.
    const b = this.building;
    if (stale && (!b || !sameList(b.roots, s.roots) || !sameList(b.exclude, s.exclude))) {
      await this.abortBuild();
      this.startBuild();
    }
  }

  /** (Re)starts the helper when its marks, timeout or fanotify class change; otherwise sends the policy. */
  private async ensureEnforcement(): Promise<boolean> {
    const s = this.settings;
    if (!s) return false;
    const marks = s.marks ?? defaultMarks();
    const detect = this.enforcedMode() === 'detect';
    const restart =
      !this.enforcement ||
      !this.enforcedMarks ||
      !sameList(this.enforcedMarks.mounts, marks.mounts) ||
      !sameList(this.enforcedMarks.filesystems, marks.filesystems) ||
      this.enforcedTimeout !== s.decisionTimeoutMs ||
      this.enforcedDetect !== detect;
    if (restart) {
      await this.stopEnforcement();
      try {
        await this.startEnforcement(marks, s.decisionTimeoutMs);
      } catch (e) {
        const reason = `enforcement did not start: ${e instanceof Error ? e.message : String(e)}`.slice(0, 1000);
        this.ctx?.emit({ type: 'app-control.enforcement-failed', severity: 'high', message: reason });
        this.state = { state: 'error', reason };
        return false;
      }
    } else await this.enforcement?.update(this.snapshot());
    return true;
  }

  private startBuild(): void {
    const s = this.settings!;
    const abort = new AbortController();
    const aborted = new Promise<never>((_, reject) =>
      abort.signal.addEventListener('abort', () => reject(abort.signal.reason), { once: true }),
    );
    aborted.catch(() => undefined);
    const scan = (async () => {
      if (this.options.beforeInventory) await Promise.race([this.options.beforeInventory(), aborted]);
      abort.signal.throwIfAborted();
      await this.takeInventory(abort.signal);
    })();
    // The hand-over joins the lifecycle queue (a reconfigure in flight finishes first). It is not
    // part of `scan`: abortBuild() runs inside that queue and must not wait for it.
    const promise = scan
      .then(() =>
        this.run(async () => {
          if (abort.signal.aborted || !this.settings || this.settings.mode === 'off') return;
          this.baseline = { state: 'ready' };
          if (this.state.state === 'running') await this.ensureEnforcement();
        }),
      )
      .catch((err) => {
        if (abort.signal.aborted) return;
        const reason = `inventory failed: ${err instanceof Error ? err.message : String(err)}`.slice(0, 500);
        this.baseline = { state: 'failed', reason };
        this.ctx?.logger.error({ module: this.name }, `app-control: ${reason}`);
      })
      .finally(() => {
        if (this.building?.abort === abort) this.building = undefined;
      });
    this.building = { scan, promise, abort, roots: [...s.roots], exclude: [...s.exclude] };
  }

  private async abortBuild(): Promise<void> {
    const b = this.building;
    if (!b) return;
    b.abort.abort();
    this.building = undefined;
    await b.scan.catch(() => undefined);
  }

  private scheduleDiskChecks(minutes: number): void {
    if (minutes === this.diskTimerMinutes) return;
    if (this.diskTimer) clearInterval(this.diskTimer);
    this.diskTimer = undefined;
    this.diskTimerMinutes = minutes;
    if (minutes <= 0) return;
    this.diskTimer = setInterval(() => {
      this.checkDisk().catch((err) => this.ctx?.logger.warn({ module: this.name }, `app-control disk check: ${(err as Error).message}`));
    }, minutes * 60_000);
    this.diskTimer.unref();
  }

  /**
   * Looks for executables under the roots that are new or changed since the baseline and not
   * allowed by the policy: drift that has not run yet (a dropped tool waiting for its moment).
   * Reported once per path and content (`access: disk`); the baseline does not change — only
   * maintenance or a review approves. One check at a time; none while the baseline is built.
   */
  checkDisk(): Promise<DiskCheckResult> {
    if (this.building || this.baseline.state !== 'ready') {
      return Promise.reject(new Error('APPCTL_BASELINE_BUILDING: the baseline is still being built; nothing to compare with yet'));
    }
    this.diskCheck ??= this.checkDiskOnce().finally(() => {
      this.diskCheck = undefined;
    });
    return this.diskCheck;
  }

  private async checkDiskOnce(): Promise<DiskCheckResult> {
    const s = this.settings;
    if (!s || !this.store) throw new Error('app-control is not started');
    const pool = new HashPool(s.hashThreads);
    try {
      const packages = s.packageOrigin ? loadPackageDatabase(this.options.packageDatabase) : undefined;
      const r = await scanInventory({
        roots: s.roots,
        exclude: s.exclude,
        pool,
        previous: this.diskScan ?? this.files,
        ...(packages ? { packages: packages.index } : {}),
      });
      this.diskScan = r.files;
      const snap = this.snapshot();
      const policy = new AppControlPolicy({
        rulesets: snap.rulesets,
        globalBlock: snap.globalBlock,
        baseline: snap.baseline,
        trustPackages: snap.trustPackages,
      });
      const maintenance = this.maintenanceUntil !== undefined && this.now() < this.maintenanceUntil;
      const out: DiskCheckResult = { files: r.files.size, added: 0, changed: 0, reported: 0 };
      for (const [path, e] of r.files) {
        const base = this.files.get(path);
        if (base?.sha256 === e.sha256) continue;
        if (base) out.changed++;
        else out.added++;
        const decision = policy.decide({ path, sha256: e.sha256, ...(e.pkg ? { package: e.pkg } : {}) });
        // Allowed content is not drift; during maintenance new software is expected (it joins the baseline at the end).
        if (decision.verdict === 'allow' || maintenance) continue;
        const owner = e.uid !== undefined ? { uid: e.uid, ...(userName(e.uid) ? { name: userName(e.uid) } : {}) } : undefined;
        const { record, isNew } = this.drift.observe(
          { path, sha256: e.sha256, decision, denied: false, access: 'disk', ...(owner ? { user: owner } : {}) },
          this.now(),
        );
        if (!isNew) continue;
        out.reported++;
        this.ctx?.emit({
          type: 'app-control.drift',
          severity: decision.verdict === 'block' ? 'high' : 'medium',
          message: `drift: ${base ? 'changed' : 'new'} ${decision.verdict} executable on disk (not run yet): ${path}`,
          ...(decision.rulesetId ? { ruleId: decision.rulesetId } : {}),
          details: {
            path,
            sha256: e.sha256,
            size: e.size,
            ...(e.pkg ? { package: e.pkg } : {}),
            access: 'disk',
            change: base ? 'changed' : 'added',
            ...(base ? { before: base.sha256 } : {}),
            verdict: decision.verdict,
            source: decision.source,
            mode: this.mode,
            firstSeen: new Date(record.firstSeen).toISOString(),
            ...(owner ? { user: owner } : {}),
          },
        });
      }
      this.lastDiskCheck = { ...out, at: new Date(this.now()).toISOString() };
      return out;
    } finally {
      await pool.close();
      setImmediate(releaseGarbage);
    }
  }

  /** Scans the roots; the result replaces the baseline inventory (start, new roots, end of maintenance). */
  async takeInventory(signal?: AbortSignal): Promise<{ added: number; changed: number; removed: number }> {
    const s = this.settings;
    if (!s || !this.store) throw new Error('app-control is not started');
    const pool = new HashPool(s.hashThreads);
    const abortPool = () => void pool.close();
    signal?.addEventListener('abort', abortPool, { once: true });
    try {
      const before = this.files;
      const packages = s.packageOrigin ? loadPackageDatabase(this.options.packageDatabase) : undefined;
      this.packageSources = packages?.sources ?? [];
      const r = await scanInventory({
        roots: s.roots,
        exclude: s.exclude,
        pool,
        previous: before,
        ...(packages ? { packages: packages.index } : {}),
        ...(signal ? { signal } : {}),
        onProgress: (progress) => {
          if (this.baseline.state === 'building') this.baseline = { ...this.baseline, progress };
        },
      });
      signal?.throwIfAborted();
      this.files = r.files;
      this.diskScan = undefined;
      this.scannedRoots = [...s.roots];
      this.scannedExclude = [...s.exclude];
      this.scannedAt = new Date(this.now()).toISOString();
      this.store.saveInventory(s.roots, s.exclude, r.files, this.scannedAt);
      const d = diffInventory(new Map([...before].map(([p, e]) => [p, e.sha256])), new Map([...r.files].map(([p, e]) => [p, e.sha256])));
      this.ctx?.emit({
        type: 'app-control.inventory',
        severity: 'info',
        message: `inventory: ${r.files.size} files (${r.hashed} hashed, ${r.reused} unchanged, ${r.errors} unreadable)`,
        details: {
          files: r.files.size,
          hashed: r.hashed,
          reused: r.reused,
          errors: r.errors,
          added: d.added.length,
          changed: d.changed.length,
          removed: d.removed.length,
        },
      });
      return { added: d.added.length, changed: d.changed.length, removed: d.removed.length };
    } finally {
      signal?.removeEventListener('abort', abortPool);
      await pool.close();
      // The walk, the hashes and the package index are garbage now; an idle agent would not
      // allocate enough to collect them (see releaseGarbage). After this frame is gone.
      setImmediate(releaseGarbage);
    }
  }

  private localRuleset(): Ruleset {
    return {
      id: 'local',
      name: 'This computer',
      scope: 'local',
      rules: [...this.local].map(([sha256, action]) => ({ kind: 'hash' as const, sha256, action })),
    };
  }

  private snapshot(): PolicySnapshot {
    const s = this.settings;
    const baseline = new Set<string>();
    for (const e of this.files.values()) baseline.add(e.sha256);
    for (const h of this.learned.keys()) baseline.add(h);
    return {
      mode: this.enforcedMode(),
      rulesets: [...(s?.rulesets ?? []), this.localRuleset()],
      globalBlock: s?.globalBlock ?? [],
      baseline: [...baseline],
      trustPackages: s?.packageOrigin ?? false,
      ...(this.baseline.state !== 'ready' && s ? { pendingRoots: s.roots } : {}),
      ...(this.maintenanceUntil !== undefined ? { maintenanceUntil: this.maintenanceUntil } : {}),
    };
  }

  private async startEnforcement(marks: GateMarks, timeoutMs: number): Promise<void> {
    const w = new EnforcementWorker();
    await w.start({
      marks,
      timeoutMs,
      policy: this.snapshot(),
      ...(this.options.gateBinary ? { binary: this.options.gateBinary } : {}),
      ...(this.options.decisionDelayMs ? { decisionDelayMs: this.options.decisionDelayMs } : {}),
      ...(this.options.packageDatabase ? { packageDatabase: this.options.packageDatabase } : {}),
      onObservation: (o) => this.observe(o),
      onTimeout: (id, path) => {
        this.counters.timeouts++;
        this.ctx?.emit({
          type: 'app-control.decision-timeout',
          severity: 'medium',
          message: `no verdict within ${timeoutMs} ms${path ? ` for ${path}` : ''}: allowed (fail-open)`,
          details: { request: id, ...(path ? { path } : {}), timeoutMs },
        });
      },
      onError: (message) => this.ctx?.logger.warn({ module: this.name }, `fanotify-gate: ${message}`),
      onExit: (code, signal) => {
        this.enforcement = undefined;
        const reason = `enforcement helper ended (${code ?? signal}): nothing is enforced`;
        this.state = { state: 'error', reason };
        this.ctx?.emit({ type: 'app-control.enforcement-stopped', severity: 'high', message: reason });
      },
    });
    this.enforcement = w;
    this.enforcedMarks = marks;
    this.enforcedTimeout = timeoutMs;
    this.enforcedDetect = this.enforcedMode() === 'detect';
    this.hashImpl = w.hashImpl;
  }

  private async stopEnforcement(): Promise<void> {
    const w = this.enforcement;
    this.enforcement = undefined;
    this.enforcedMarks = undefined;
    await w?.stop();
  }

  private observe(o: Observation): void {
    if (o.learned) {
      if (!this.learned.has(o.sha256)) {
        this.learned.set(o.sha256, { path: o.path, at: new Date(this.now()).toISOString(), why: 'maintenance' });
        this.store?.saveLearned(this.learned);
        this.counters.learned++;
      }
      return;
    }
    const user = { uid: o.uid, ...(userName(o.uid) ? { name: userName(o.uid) } : {}) };
    const process = { pid: o.pid, ...(o.exe ? { exe: o.exe } : {}) };
    const { record, isNew } = this.drift.observe(
      { path: o.path, sha256: o.sha256, decision: o.decision, denied: o.denied, access: o.access, process, user },
      this.now(),
    );
    const size = sizeOf(o.path);
    const pkg = o.package ?? packageOf(this.files.get(o.path));
    if (o.denied) this.counters.blocked++;
    else this.counters.drift++;
    // One event per distinct (path, hash) and outcome: a cron job retrying every minute is one line.
    if (!isNew && !(o.denied && record.count === 1)) return;
    const what = o.access === 'exec' ? 'run' : 'loaded';
    this.ctx?.emit({
      type: o.denied ? 'app-control.blocked' : 'app-control.drift',
      severity: o.denied ? 'high' : 'medium',
      message: o.denied
        ? `blocked ${o.decision.verdict} software: ${o.path} (${what} by ${o.exe ?? `pid ${o.pid}`}, uid ${o.uid})`
        : `drift: ${o.decision.verdict} software ran: ${o.path} (${what} by ${o.exe ?? `pid ${o.pid}`}, uid ${o.uid})`,
      ...(o.decision.rulesetId ? { ruleId: o.decision.rulesetId } : {}),
      details: {
        path: o.path,
        sha256: o.sha256,
        ...(size !== undefined ? { size } : {}),
        ...(pkg ? { package: pkg } : {}),
        access: o.access,
        verdict: o.decision.verdict,
        source: o.decision.source,
        mode: this.mode,
        firstSeen: new Date(record.firstSeen).toISOString(),
        process,
        user,
      },
    });
  }

  /** Maintenance until `until` (epoch ms): unknown software runs and joins the baseline. */
  private async setMaintenance(until: number | undefined): Promise<void> {
    if (this.maintenanceTimer) clearTimeout(this.maintenanceTimer);
    this.maintenanceTimer = undefined;
    const active = until !== undefined && until > this.now();
    this.maintenanceUntil = active ? until : undefined;
    if (active) {
      this.maintenanceTimer = setTimeout(() => void this.endMaintenance(), Math.min(until - this.now(), 2 ** 31 - 1));
      this.maintenanceTimer.unref?.();
    }
    await this.enforcement?.update(this.snapshot());
  }

  /** Starts maintenance for a duration (`30m`, `2h`, seconds). */
  async startMaintenance(duration: string | number): Promise<{ until: string }> {
    const ms = parseDuration(duration);
    if (ms === undefined) throw new Error(`APPCTL_BAD_DURATION: ${duration} (use e.g. 90s, 30m, 2h; at most 24h)`);
    const until = this.now() + ms;
    await this.setMaintenance(until);
    this.ctx?.emit({
      type: 'app-control.maintenance-started',
      severity: 'info',
      message: `maintenance mode until ${new Date(until).toISOString()}`,
      details: { until: new Date(until).toISOString() },
    });
    return { until: new Date(until).toISOString() };
  }

  /**
   * Ends maintenance: the roots are scanned again and what was installed meanwhile becomes the
   * baseline, together with everything that ran during the window (learned as it ran).
   */
  async endMaintenance(): Promise<{ added: number; changed: number }> {
    await this.setMaintenance(undefined);
    const d = this.settings && this.store ? await this.takeInventory() : { added: 0, changed: 0, removed: 0 };
    await this.enforcement?.update(this.snapshot());
    this.ctx?.emit({
      type: 'app-control.maintenance-ended',
      severity: 'info',
      message: `maintenance ended: ${d.added} new and ${d.changed} changed files joined the baseline`,
      details: { added: d.added, changed: d.changed, learned: this.counters.learned },
    });
    return { added: d.added, changed: d.changed };
  }

  /** Allows or blocks one hash on this computer (the local ruleset). */
  async decideLocally(sha256: string, action: 'allow' | 'block'): Promise<void> {
    const h = sha256.trim().toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(h)) throw new Error(`APPCTL_BAD_HASH: ${sha256} is not a SHA-256`);
    this.local.set(h, action);
    this.store?.saveLocal(this.local);
    if (action === 'allow') this.drift.resolve(h);
    await this.enforcement?.update(this.snapshot());
  }

  /** The inventory as the CLI and the manager show it. */
  inventory(): {
    path: string;
    sha256: string;
    kind: string;
    size: number;
    package?: { manager: string; name: string; intact: boolean };
  }[] {
    return [...this.files].map(([path, e]) => ({
      path,
      sha256: e.sha256,
      kind: e.kind,
      size: e.size,
      ...(e.pkg ? { package: e.pkg } : {}),
    }));
  }

  driftRecords() {
    return this.drift.list();
  }

  get mode(): AppControlMode {
    return this.settings?.mode ?? 'off';
  }

  async gateStats() {
    return this.enforcement?.stats();
  }

  readonly commands = {
    'app-control.maintenance': async (args: Record<string, unknown>) => {
      if (args.end === true) return this.endMaintenance();
      return this.startMaintenance(typeof args.duration === 'string' || typeof args.duration === 'number' ? args.duration : '30m');
    },
    'app-control.allow': async (args: Record<string, unknown>) => {
      await this.decideLocally(String(args.sha256 ?? ''), 'allow');
      return { sha256: String(args.sha256).toLowerCase(), action: 'allow' };
    },
    'app-control.block': async (args: Record<string, unknown>) => {
      await this.decideLocally(String(args.sha256 ?? ''), 'block');
      return { sha256: String(args.sha256).toLowerCase(), action: 'block' };
    },
    // While the first inventory runs, a rescan is that inventory.
    'app-control.check-disk': async () => ({ ...(await this.checkDisk()) }),
    'app-control.rescan': async () => {
      if (this.building) {
        await this.building.promise;
        return { building: true, baselineState: this.baseline.state };
      }
      return this.takeInventory();
    },
    'app-control.inventory': async () => ({ scannedAt: this.scannedAt ?? null, roots: this.scannedRoots, files: this.inventory() }),
    'app-control.status': async () => ({
      status: this.status(),
      drift: this.drift.list(),
      local: Object.fromEntries(this.local),
      gate: (await this.gateStats()) ?? null,
    }),
  };

  async stop(): Promise<void> {
    if (this.maintenanceTimer) clearTimeout(this.maintenanceTimer);
    this.maintenanceTimer = undefined;
    this.scheduleDiskChecks(0);
    await this.diskCheck?.catch(() => undefined);
    await this.abortBuild();
    await this.run(() => this.stopEnforcement());
    this.ctx = undefined;
    this.state = { state: 'off' };
  }

  status(): ModuleStatus {
    if (this.state.state !== 'running') return this.state;
    const b = this.baseline;
    const details = {
      mode: this.mode,
      enforcedMode: this.enforcedMode(),
      enforcing: this.enforcement !== undefined,
      baselineState: b.state,
      ...(b.state === 'building'
        ? {
            baselineProgress: {
              ...b.progress,
              seconds: Math.round((this.now() - b.startedAt) / 1000),
            },
          }
        : {}),
      inventoryFiles: this.files.size,
      baseline: this.snapshot().baseline.length,
      learnedHashes: this.learned.size,
      localRules: this.local.size,
      driftRecords: this.drift.size,
      blocked: this.counters.blocked,
      driftRuns: this.counters.drift,
      timeouts: this.counters.timeouts,
      packageDatabases: this.packageSources,
      ...(this.lastDiskCheck ? { lastDiskCheck: this.lastDiskCheck } : {}),
      ...(this.maintenanceUntil ? { maintenanceUntil: new Date(this.maintenanceUntil).toISOString() } : {}),
      ...(this.scannedAt ? { scannedAt: this.scannedAt } : {}),
      hash: this.hashImpl,
      ...(this.enforcement ? { helperPid: this.enforcement.helperPid } : {}),
    };
    if (b.state === 'ready') return { state: 'running', details };
    const p = b.state === 'building' ? b.progress : undefined;
    const progress = !p
      ? ''
      : p.phase === 'walking'
        ? `: looking for executables (${p.files} found)`
        : `: ${p.hashed} of ${p.toHash} files hashed (${p.files} executables)`;
    const what =
      this.mode === 'block-unrecognized'
        ? 'unknown software is not blocked (explicit block rules are)'
        : 'unknown software under the roots is not reported';
    const reason =
      b.state === 'building' ? `building baseline${progress}; until it exists ${what}` : `${b.reason}; there is no baseline, so ${what}`;
    return { state: 'running', reason: reason.slice(0, 1000), details };
  }
}

function sizeOf(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}

function packageOf(e: InventoryEntry | undefined): { manager: string; name: string; intact: boolean } | undefined {
  return e?.pkg;
}
