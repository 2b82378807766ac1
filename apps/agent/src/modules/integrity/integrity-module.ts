import { join } from 'node:path';
import { type Change, diffEntities, type Entity, entityId } from '@palisade/integrity';
import type { ModuleConfig, ModuleStatus } from '@palisade/protocol';
import { Cron } from 'croner';
import { AgentError } from '../../agent-error.ts';
import type { AgentModule, ModuleCapabilities, ModuleCommandHandler, ModuleContext, ModuleDiagnostic } from '../../agent-module.ts';
import {
  BaselineStore,
  type FimScanResult,
  type PendingChange,
  releaseGarbage,
  runFimScan,
  runFimTargetScan,
  type ScanIssue,
} from '../../fim/index.ts';
import { type ChangeSource, changeEvent } from './change-event.ts';
import { ContentTracker } from './content-tracker.ts';
import { acceptArgs, type BaselineSummary, summarize } from './baseline-summary.ts';
import { type IntegritySettings, parseIntegritySettings } from './integrity-settings.ts';
import { loadModuleRules, type ModuleRules } from './load-module-rules.ts';
import { RealtimeWatcher, type RescanTarget } from './realtime-watcher.ts';

const SEVERITY_ORDER = { critical: 0, high: 1, medium: 2, low: 3 } as const;

function covered(key: string, targets: readonly RescanTarget[]): boolean {
  for (const t of targets) {
    if (key === t.path) return true;
    if (t.recursive && (t.path === '/' || key.startsWith(`${t.path}/`))) return true;
  }
  return false;
}

interface ScanRecord {
  at: string;
  reason: string;
  seconds: number;
  entities: number;
  /** Files examined per second over the whole scan (walk, hashing and the system sources). */
  filesPerSecond: number;
  hashed: number;
  reused: number;
  bytesHashed: number;
  changes: number;
  issues: number;
}

/**
 * Integrity monitoring as an agent module. The first start builds the baseline (no events);
 * from then on full scans (on start, on a schedule, when the rules change) and real-time
 * rescans of watched paths compare the host with the baseline, emit one event per change and
 * move the baseline forward, so each change is reported once. The baseline is a SQLite file in
 * the module's data directory, so changes made while the agent was stopped are found by the
 * scan on the next start.
 */
export class IntegrityModule implements AgentModule {
  readonly name = 'integrity';
  private ctx: ModuleContext | undefined;
  private config: ModuleConfig | undefined;
  private settings: IntegritySettings | undefined;
  private rules: ModuleRules | undefined;
  private store: BaselineStore | undefined;
  private content: ContentTracker | undefined;
  private summaryCache: BaselineSummary['counts'] | undefined;
  /**
   * Entities in the baseline. The baseline itself stays in baseline.sqlite: a full scan reads
   * it for its run, a real-time rescan reads only the paths it covers, so an idle agent holds
   * none of it (80,000 entities were ~45 MB of heap).
   */
  private baselineSize = 0;
  private ready = false;
  private watcher: RealtimeWatcher | undefined;
  private cron: Cron | undefined;
  private interval: NodeJS.Timeout | undefined;
  private abort: AbortController | undefined;
  private background: Promise<void> | undefined;
  private fullScan: Promise<void> | undefined;
  /** Targets rescanned in real time while a full scan runs: their state is newer than what that scan read. */
  private touched: RescanTarget[] | undefined;
  private readonly queue = new Map<string, boolean>();
  private rescanChain: Promise<unknown> = Promise.resolve();
  private draining: Promise<void> | undefined;
  private state: ModuleStatus = { state: 'off' };
  private lastScan: ScanRecord | undefined;
  private readonly counters = { scans: 0, rescans: 0, changesReported: 0, suppressed: 0 };

  async capabilities(): Promise<ModuleCapabilities> {
    return { supported: true };
  }

  configure(config: ModuleConfig): ModuleDiagnostic[] {
    const { settings, diagnostics } = parseIntegritySettings(config);
    if (settings) {
      this.settings = settings;
      this.config = config;
    }
    return diagnostics;
  }

  async start(ctx: ModuleContext): Promise<void> {
    this.ctx = ctx;
    // configure() may have seen a candidate the agent then refused: start from the config given.
    const diags = this.configure(ctx.config);
    if (!this.settings || diags.some((d) => d.severity === 'error')) throw new Error(diags.map((d) => d.message).join('; '));
    await this.begin(true);
  }

  async reconfigure(config: ModuleConfig): Promise<void> {
    const diags = this.configure(config);
    if (diags.some((d) => d.severity === 'error')) throw new Error(diags.map((d) => d.message).join('; '));
    await this.halt();
    await this.begin(false);
  }

  async stop(): Promise<void> {
    await this.halt();
    this.state = { state: 'off' };
  }

  /** Runs a full scan now (for a manager command or a test); resolves when it is done. */
  scanNow(): Promise<void> {
    return this.runFullScan('on demand');
  }

  /** Resolves once the start-up work (baseline build or start-up scan) is over. */
  async settled(): Promise<void> {
    await this.background;
    await this.draining;
  }

  private async begin(firstStart: boolean): Promise<void> {
    const ctx = this.ctx!;
    const s = this.settings!;
    this.state = { state: 'starting' };
    const loaded = loadModuleRules(s);
    if (!loaded.value) {
      const reason = loaded.diagnostics
        .filter((d) => d.severity === 'error')
        .slice(0, 10)
        .map((d) => `${d.file ?? ''}${d.line ? `:${d.line}` : ''}: ${d.code}: ${d.message}`)
        .join('; ');
      this.state = { state: 'error', reason: reason.slice(0, 1000) };
      throw new Error(reason);
    }
    this.rules = loaded.value;
    this.abort = new AbortController();
    this.store = new BaselineStore(join(ctx.dataDir, 'baseline.sqlite'));
    this.content = new ContentTracker(ctx.dataDir, s.root, this.rules.rules, s.contentCopiesMaxBytes);
    this.summaryCache = undefined;
    const meta = this.store.meta();
    // A baseline of another root (a different container image) says nothing about this one.
    const usable = meta !== undefined && meta.root === s.root;
    this.baselineSize = usable ? this.store.count() : 0;
    this.ready = usable;
    if (s.realtime.enabled && this.rules.rules.rules.some((r) => r.type === 'files' && r.realtime)) {
      this.watcher = new RealtimeWatcher({
        rules: this.rules.rules,
        root: s.root,
        debounceMs: s.realtime.debounceMs,
        maxDelayMs: s.realtime.maxDelayMs,
        maxWatches: s.realtime.maxWatches,
        onRescan: (targets) => this.enqueue(targets),
        onWarning: (msg, details) => ctx.logger.warn(details, msg),
      });
    }
    this.schedule(s);
    const rulesChanged = usable && meta.rulesSha256 !== this.rules.sha256;
    const signal = this.abort.signal;
    // The baseline of a whole system takes minutes: it runs after start() returns, so the
    // agent's start-up (and its lifecycle timeout) does not wait for it.
    this.background = (async () => {
      // Watching starts before the first scan, so nothing changed during it goes unseen.
      this.watcher?.start();
      if (!usable) {
        await this.buildBaseline(signal);
        releaseGarbage();
      } else if (rulesChanged || (firstStart && s.scanOnStart)) await this.runFullScan(rulesChanged ? 'rules changed' : 'start');
      this.drain();
    })().catch((err) => {
      if (!signal.aborted) ctx.logger.error({ err: String((err as Error)?.message ?? err) }, 'integrity: start-up scan failed');
    });
    this.state = { state: 'running' };
  }

  private async halt(): Promise<void> {
    this.abort?.abort();
    this.watcher?.close();
    this.watcher = undefined;
    this.cron?.stop();
    this.cron = undefined;
    if (this.interval) clearInterval(this.interval);
    this.interval = undefined;
    this.queue.clear();
    // Each of these ends promptly once aborted (the walk checks the signal, hashing workers stop).
    await Promise.allSettled([this.background, this.fullScan, this.draining]);
    this.background = undefined;
    this.store?.close();
    this.store = undefined;
    this.content?.close();
    this.content = undefined;
    this.ready = false;
  }

  private schedule(s: IntegritySettings): void {
    const run = () => {
      this.runFullScan('scheduled').catch((err) => {
        if (!this.abort?.signal.aborted)
          this.ctx?.logger.error({ err: String((err as Error)?.message ?? err) }, 'integrity: scheduled scan failed');
      });
    };
    if ('cron' in s.schedule) this.cron = new Cron(s.schedule.cron, { protect: true, unref: true }, run);
    else {
      this.interval = setInterval(run, s.schedule.intervalSeconds * 1000);
      this.interval.unref();
    }
  }

  private record(reason: string, started: number, scan: FimScanResult, changes: number): void {
    this.counters.scans++;
    const seconds = Number(((performance.now() - started) / 1000).toFixed(3));
    this.lastScan = {
      at: new Date().toISOString(),
      reason,
      seconds,
      entities: scan.entities.length,
      filesPerSecond: Math.round(scan.stats.files / Math.max(seconds, 0.001)),
      hashed: scan.stats.hashed,
      reused: scan.stats.reused,
      bytesHashed: scan.stats.bytesHashed,
      changes,
      issues: scan.issues.length,
    };
    this.summaryCache = undefined;
    // Kept with the baseline, so the summary after a restart still says when the last full scan ran.
    this.store!.setMeta({
      lastFullScanAt: this.lastScan.at,
      lastFullScanReason: reason,
      lastFullScanSeconds: seconds,
      lastFullScanEntities: scan.entities.length,
      lastFullScanFilesPerSecond: this.lastScan.filesPerSecond,
      ...(changes > 0 ? { lastChangeAt: this.lastScan.at } : {}),
    });
  }

  /** A new baseline (first start, or rebuilt on command): its time, and no change is pending any more. */
  private baselineBuilt(reason: string, entities: readonly Entity[]): void {
    this.store!.clearPending();
    this.store!.setMeta({ builtAt: this.lastScan!.at, buildSeconds: this.lastScan!.seconds, buildReason: reason });
    this.content!.sync(entities, { force: true });
  }

  private async buildBaseline(signal: AbortSignal): Promise<void> {
    const s = this.settings!;
    const started = performance.now();
    const scan = await runFimScan(this.rules!.rules, {
      root: s.root,
      hashWorkers: s.hashWorkers,
      limits: s.limits,
      xattrs: s.xattrs,
      signal,
    });
    signal.throwIfAborted();
    this.store!.save(scan.entities, {
      createdAt: new Date().toISOString(),
      root: s.root,
      rulesSha256: this.rules!.sha256,
      entities: scan.entities.length,
    });
    this.baselineSize = scan.entities.length;
    this.ready = true;
    this.record('baseline', started, scan, 0);
    this.baselineBuilt('first start', scan.entities);
    this.reportIssues(scan.issues, 'baseline');
    this.ctx!.emit({
      type: 'integrity.baseline',
      severity: 'info',
      message: `integrity baseline built: ${scan.entities.length} entities (${scan.stats.hashed} files hashed, ${(scan.stats.bytesHashed / 1048576).toFixed(1)} MiB) in ${this.lastScan!.seconds} s`,
      details: { ...this.lastScan, rules: this.rules!.rules.rules.length },
    });
  }

  /** One full scan at a time: a scheduled tick during a running scan joins it. */
  private runFullScan(reason: string): Promise<void> {
    if (!this.ready || !this.abort) return Promise.resolve();
    this.fullScan ??= this.fullScanOnce(reason, this.abort.signal).finally(() => {
      this.fullScan = undefined;
      this.touched = undefined;
      releaseGarbage();
    });
    return this.fullScan;
  }

  private async fullScanOnce(reason: string, signal: AbortSignal, rebuild = false): Promise<void> {
    const s = this.settings!;
    const rules = this.rules!;
    const started = performance.now();
    this.touched = [];
    const baseline = this.store!.load();
    const previousRuleIds = new Set<string>();
    for (const e of baseline) previousRuleIds.add(e.rule);
    const meta = this.store!.meta();
    const rulesChanged = meta?.rulesSha256 !== rules.sha256;
    const scan = await runFimScan(rules.rules, {
      root: s.root,
      previous: baseline,
      hashWorkers: s.hashWorkers,
      limits: s.limits,
      xattrs: s.xattrs,
      signal,
    });
    signal.throwIfAborted();
    // Paths rescanned in real time meanwhile: the baseline already holds their newer state and
    // their changes were reported; the scan may have read them before the change.
    // The baseline read at the start is stale for them: their rows are read again now.
    let entities = scan.entities;
    let current = baseline;
    const touched = this.touched ?? [];
    if (touched.length) {
      const untouched = (e: Entity) => e.kind !== 'file' || !covered(e.key, touched);
      const fresh = this.store!.filesUnder(touched).filter((e) => !untouched(e));
      entities = [...entities.filter(untouched), ...fresh];
      current = [...baseline.filter(untouched), ...fresh];
    }
    let changes = diffEntities(current, entities, rules.rules);
    if (rebuild) {
      // Rebuilt on command: what is on disk now is the accepted state, whatever changed.
      this.counters.suppressed += changes.length;
      changes = [];
    } else if (rulesChanged) {
      // A rule that is new since the baseline starts monitoring what already exists: not a change.
      const before = changes.length;
      changes = changes.filter((c) => c.change !== 'created' || previousRuleIds.has(c.rule));
      this.counters.suppressed += before - changes.length;
    }
    this.store!.save(entities, { createdAt: new Date().toISOString(), root: s.root, rulesSha256: rules.sha256, entities: entities.length });
    this.baselineSize = entities.length;
    this.record(reason, started, scan, changes.length);
    this.reportIssues(scan.issues, reason);
    if (rebuild) {
      this.baselineBuilt('command', entities);
      this.ctx!.emit({
        type: 'integrity.baseline',
        severity: 'info',
        message: `integrity baseline rebuilt on command: ${entities.length} entities in ${this.lastScan!.seconds} s`,
        details: { ...this.lastScan, rules: rules.rules.rules.length, rebuilt: true },
      });
    } else {
      if (changes.length)
        this.emitChanges(changes, 'scan', new Map(entities.map((e) => [entityId(e), e])), new Map(current.map((e) => [entityId(e), e])));
      this.content!.sync(entities);
    }
    this.watcher?.refresh();
  }

  private enqueue(targets: RescanTarget[]): void {
    for (const t of targets) this.queue.set(t.path, (this.queue.get(t.path) ?? false) || t.recursive);
    this.drain();
  }

  /** Real-time rescans run one after another; targets arriving meanwhile are merged into the next one. */
  private drain(): void {
    if (this.draining || !this.ready || this.queue.size === 0 || !this.abort) return;
    const signal = this.abort.signal;
    this.draining = (async () => {
      while (this.queue.size && !signal.aborted) {
        const targets = [...this.queue].map(([path, recursive]) => ({ path, recursive }));
        this.queue.clear();
        try {
          await this.rescan(targets, signal);
        } catch (err) {
          if (!signal.aborted)
            this.ctx?.logger.error({ err: String((err as Error)?.message ?? err) }, 'integrity: real-time rescan failed');
        }
      }
    })().finally(() => {
      this.draining = undefined;
    });
  }

  /**
   * Rescans some paths and folds them into the baseline. `accepted` (an operator's accept): the
   * state found is taken as it is, with no event, and the text copies are re-read.
   */
  private rescan(targets: RescanTarget[], signal: AbortSignal, accepted = false): Promise<Change[]> {
    // One at a time (real-time and accept): each folds what it read into the baseline, and a
    // slower one finishing last must not put back an older state.
    const run = this.rescanChain.then(() => this.rescanOnce(targets, signal, accepted));
    this.rescanChain = run.catch(() => {});
    return run;
  }

  private async rescanOnce(targets: RescanTarget[], signal: AbortSignal, accepted: boolean): Promise<Change[]> {
    const s = this.settings!;
    const rules = this.rules!.rules;
    // One worker: a handful of files, and the full scan's pool must not be shared.
    const scan = await runFimTargetScan(rules, targets, {
      root: s.root,
      previous: new Map(this.store!.filesUnder(targets).map((e) => [entityId(e), e])),
      hashWorkers: 1,
      xattrs: s.xattrs,
      signal,
    });
    signal.throwIfAborted();
    this.counters.rescans++;
    // The baseline part is taken now, after the scan: a full scan may have replaced it meanwhile.
    const before = this.store!.filesUnder(targets).filter((e) => covered(e.key, targets));
    const changes = diffEntities(before, scan.entities, rules);
    const after = new Set(scan.entities.map(entityId));
    const removed = before.filter((e) => !after.has(entityId(e)));
    this.store!.update(scan.entities, removed);
    this.baselineSize = this.store!.count();
    this.touched?.push(...targets);
    this.summaryCache = undefined;
    this.reportIssues(
      scan.issues.filter((i) => i.kind !== 'vanished'),
      accepted ? 'accept' : 'real-time',
    );
    if (accepted) {
      this.content!.sync(scan.entities, { force: true, only: new Set([...before, ...scan.entities].map((e) => e.key)) });
      return changes;
    }
    const afterMap = new Map(scan.entities.map((e) => [entityId(e), e]));
    const beforeMap = new Map(before.map((e) => [entityId(e), e]));
    this.emitChanges(changes, 'realtime', afterMap, beforeMap);
    return changes;
  }

  /**
   * One event per change (text diffs attached for `reportChanges` files), each remembered as
   * pending until an operator accepts it. `after`/`before` hold the scanned and the previous
   * entities by id, for the diffs.
   */
  private emitChanges(
    changes: Change[],
    source: ChangeSource,
    after: ReadonlyMap<string, Entity>,
    before: ReadonlyMap<string, Entity>,
  ): void {
    if (changes.length === 0) return;
    const max = this.settings!.maxEventsPerScan;
    const ordered = changes.length > max ? [...changes].sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]) : changes;
    const at = new Date().toISOString();
    const pending: PendingChange[] = [];
    const pend = (c: Change, eventId: string) =>
      pending.push({ eventId, kind: c.kind, key: c.key, change: c.change, rule: c.rule, severity: c.severity, at });
    for (const [i, c] of ordered.entries()) {
      let diff;
      try {
        diff = this.content!.diffFor(
          c,
          after.get(entityId(c)),
          before.get(entityId(c.change === 'renamed' ? { kind: c.kind, key: c.from! } : c)),
        );
      } catch (err) {
        // A diff is a bonus: the change is reported without it rather than not at all.
        this.ctx!.logger.warn({ key: c.key, err: String((err as Error)?.message ?? err) }, 'integrity: text diff failed');
      }
      if (i < max) pend(c, this.ctx!.emit(changeEvent(c, source, diff)).id);
    }
    this.counters.changesReported += Math.min(max, changes.length);
    if (changes.length > max) {
      const rest = ordered.slice(max);
      const byChange: Record<string, number> = {};
      for (const c of rest) byChange[c.change] = (byChange[c.change] ?? 0) + 1;
      const truncated = this.ctx!.emit({
        type: 'integrity.changes-truncated',
        severity: rest[0]!.severity,
        message: `${rest.length} more integrity changes not sent one by one (limit ${max} per scan)`,
        details: { source, total: changes.length, sent: max, notSent: rest.length, byChange, samples: rest.slice(0, 20).map((c) => c.key) },
      });
      for (const c of rest) pend(c, truncated.id);
    }
    this.store!.addPending(pending);
    this.store!.setMeta({ lastChangeAt: at });
  }

  /**
   * Unreadable files and read errors are reported to the manager once per scan (with samples);
   * vanished files and rule sources absent on this host are normal and only logged.
   */
  private reportIssues(issues: readonly ScanIssue[], reason: string): void {
    if (issues.length === 0) return;
    const serious = issues.filter((i) => i.kind === 'unreadable' || i.kind === 'error');
    this.ctx!.logger.debug({ issues: issues.length, serious: serious.length, reason }, 'integrity: scan issues');
    if (serious.length === 0) return;
    this.ctx!.emit({
      type: 'integrity.scan-issues',
      severity: 'low',
      message: `integrity scan (${reason}): ${serious.length} paths could not be read completely`,
      details: { reason, count: serious.length, samples: serious.slice(0, 20) },
    });
  }

  status(): ModuleStatus {
    if (this.state.state !== 'running') return this.state;
    return {
      state: 'running',
      details: {
        baselineReady: this.ready,
        baselineEntities: this.baselineSize,
        rules: this.rules?.rules.rules.length ?? 0,
        scanning: this.fullScan !== undefined || (!this.ready && this.background !== undefined),
        ...(this.lastScan ? { lastScan: this.lastScan } : {}),
        ...this.counters,
        ...(this.watcher
          ? {
              realtime: {
                roots: this.watcher.realtimeRoots.length,
                watches: this.watcher.watchCount,
                ...this.watcher.counters,
              },
            }
          : {}),
        ...(this.cron ? { nextScan: this.cron.nextRun()?.toISOString() } : {}),
        ...(this.store && this.ready ? { baseline: this.summary() } : {}),
      },
    };
  }

  /** The baseline summarized for the manager (heartbeat `modules.integrity.details.baseline`). */
  private summary(): BaselineSummary {
    this.summaryCache ??= summarize(this.store!.iterate());
    return {
      ...readMeta(this.store!),
      counts: this.summaryCache,
      pendingChanges: this.store!.pendingCount(),
      contentCopies: this.content!.stats(),
    } as BaselineSummary;
  }

  /** Waits for the start-up work, then fails unless there is a baseline to work on. */
  private async whenReady(): Promise<AbortSignal> {
    await this.background;
    if (!this.ready || !this.abort || !this.store)
      throw new AgentError('FIM_BASELINE_NOT_READY', 'the integrity baseline is not available (see the module status)');
    return this.abort.signal;
  }

  /** Rebuilds the baseline from a fresh full scan, after any scan in progress, reporting nothing. */
  async rebuildBaseline(): Promise<Record<string, unknown>> {
    const signal = await this.whenReady();
    while (this.fullScan) await this.fullScan.catch(() => {});
    signal.throwIfAborted();
    const pendingBefore = this.store!.pendingCount();
    this.fullScan = this.fullScanOnce('rebuild', signal, true).finally(() => {
      this.fullScan = undefined;
      this.touched = undefined;
      releaseGarbage();
    });
    await this.fullScan;
    return { ...this.lastScan, pendingCleared: pendingBefore, baseline: this.summary() };
  }

  /**
   * Accepts changes: the entities named (by the events that reported them, or by path) are
   * rescanned and their current state becomes the baseline without an event; their pending
   * changes are cleared. One `integrity.accepted` event records what was accepted.
   */
  async accept(args: Record<string, unknown>): Promise<Record<string, unknown>> {
    const { eventIds, paths, all } = acceptArgs(args);
    const signal = await this.whenReady();
    const store = this.store!;
    const entities = new Map<string, { kind: Entity['kind']; key: string }>();
    const known = new Set<string>();
    const rows = all ? store.listPending() : store.listPending(eventIds);
    for (const r of rows) {
      known.add(r.eventId);
      entities.set(entityId(r), { kind: r.kind, key: r.key });
    }
    const unknownEventIds = all ? [] : eventIds.filter((id) => !known.has(id));
    for (const p of paths) entities.set(entityId({ kind: 'file', key: p }), { kind: 'file', key: p });
    if (entities.size === 0) {
      throw new AgentError(
        'FIM_NOTHING_TO_ACCEPT',
        unknownEventIds.length
          ? `no pending change for event ${unknownEventIds.join(', ')} (already accepted, or reported before the last rebuild)`
          : 'nothing to accept: give eventIds, paths or all',
      );
    }
    const files = [...entities.values()].filter((e) => e.kind === 'file').map((e) => ({ path: e.key, recursive: true }));
    const folded = files.length ? await this.rescan(files, signal, true) : [];
    const removed = store.removePending([...entities.values()]);
    const accepted = [...entities.values()].map((e) => (e.kind === 'file' ? e.key : `${e.kind}:${e.key}`));
    const result = {
      accepted: accepted.length,
      pendingRemoved: removed,
      // Changes since the reporting event (or never reported): now part of the baseline.
      folded: folded.map((c) => ({ change: c.change, kind: c.kind, key: c.key, attributes: c.attributes.map((a) => a.name) })),
      unknownEventIds,
      pendingChanges: store.pendingCount(),
    };
    this.ctx!.emit({
      type: 'integrity.accepted',
      severity: 'info',
      message:
        `integrity: ${accepted.length} entities accepted into the baseline (${removed} pending changes cleared${folded.length ? `, ${folded.length} newer changes folded in` : ''})`.slice(
          0,
          4000,
        ),
      details: { ...result, entities: accepted.slice(0, 100), ...(eventIds.length ? { eventIds: eventIds.slice(0, 100) } : {}) },
    });
    return result;
  }

  /** Manager commands (`palisade fim scan|rebuild-baseline|accept --computers ...`). */
  readonly commands: Record<string, ModuleCommandHandler> = {
    'integrity.scan': async () => {
      const signal = await this.whenReady();
      // A scan already running was started before the command: the operator asked for a new one.
      while (this.fullScan) await this.fullScan.catch(() => {});
      signal.throwIfAborted();
      await this.runFullScan('command');
      return { ...this.lastScan, pendingChanges: this.store?.pendingCount() ?? 0 };
    },
    'integrity.rebuild-baseline': async () => this.rebuildBaseline(),
    'integrity.accept': async (args) => this.accept(args),
  };
}

function readMeta(store: BaselineStore): Omit<BaselineSummary, 'counts' | 'pendingChanges' | 'contentCopies'> {
  const str = (k: string) => store.getMeta(k);
  const num = (k: string) => {
    const v = store.getMeta(k);
    return v === undefined ? undefined : Number(v);
  };
  const lastAt = str('lastFullScanAt');
  return {
    builtAt: str('builtAt') ?? null,
    buildSeconds: num('buildSeconds') ?? null,
    buildReason: str('buildReason') ?? null,
    lastFullScan: lastAt
      ? {
          at: lastAt,
          reason: str('lastFullScanReason') ?? '',
          seconds: num('lastFullScanSeconds') ?? 0,
          entities: num('lastFullScanEntities') ?? 0,
          filesPerSecond: num('lastFullScanFilesPerSecond') ?? 0,
        }
      : null,
    lastChangeAt: str('lastChangeAt') ?? null,
  };
}
