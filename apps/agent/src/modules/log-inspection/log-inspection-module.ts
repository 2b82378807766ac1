import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { formatDiagnostic } from '@palisade/diagnostics';
import { type RulesetSources, severityOfLevel } from '@palisade/log-rules';
import type { ModuleConfig, ModuleStatus } from '@palisade/protocol';
import type { AgentModule, ModuleCapabilities, ModuleContext, ModuleDiagnostic } from '../../agent-module.ts';
import { type CommandEvent, CommandRunner } from './command-source.ts';
import { FileTailer, type TailBatch } from './file-tailer.ts';
import { JournaldReader, type JournalLine, journaldAvailability } from './journald-reader.ts';
import { LineGrouper, type MultilineSpec } from './line-grouper.ts';
import {
  BUNDLED_LOG_RULES_DIR,
  type LogFormat,
  type LogInspectionSettings,
  parseLogInspectionSettings,
} from './log-inspection-settings.ts';
import { readRuleSources } from './read-rule-sources.ts';
import { type EngineAlert, type EngineLine, RulesetLoadError, type SkippedLine, WatchedEngine } from './watched-engine.ts';

export interface LogInspectionModuleOptions {
  /** The journalctl binary (tests may point at another build). */
  journalctl?: string;
  now?: () => number;
}

/** Lines per engine call: a watchdog restart re-runs at most this many lines. */
const ENGINE_BATCH = 1000;

/** Where a line came from, kept beside the engine's copy for the event. */
interface LineOrigin {
  source: 'file' | 'journald' | 'command';
  path?: string;
  unit?: string;
  alias?: string;
}

/**
 * The tailer keeps one opaque format string per file (persisted with its offset): the log format,
 * plus the line grouping as JSON when there is one, so a file found again after a restart or a
 * rotation is grouped the same way.
 */
export function encodeSourceFormat(format: LogFormat, multiline: MultilineSpec | undefined): string {
  return multiline ? `${format}|${JSON.stringify(multiline)}` : format;
}

function decodeSourceFormat(key: string): { format: string; multiline?: MultilineSpec } {
  const bar = key.indexOf('|');
  if (bar < 0) return { format: key };
  try {
    return { format: key.slice(0, bar), multiline: JSON.parse(key.slice(bar + 1)) as MultilineSpec };
  } catch {
    return { format: key.slice(0, bar) };
  }
}

/** What the engine does with a line of a format: only syslog lines have their header pre-decoded. */
function engineFormat(format: string): string {
  return format === 'syslog' ? 'syslog' : 'raw';
}

/** The grouper of one file and what its records are reported with. */
interface FileGroup {
  grouper: LineGrouper;
  location: string;
  path: string;
  format: string;
  /** The tailer's format string the grouper was made for (format and grouping). */
  sourceFormat: string;
}

/** The folders a Wazuh installation (or a bare ruleset folder) keeps decoders, rules and lists in. */
export function wazuhRuleDirs(root: string): string[] {
  return ['ruleset/decoders', 'ruleset/rules', 'ruleset/lists', 'etc/decoders', 'etc/rules', 'etc/lists', 'decoders', 'rules', 'lists']
    .map((d) => join(root, d))
    .filter((d) => existsSync(d));
}

function ruleSources(s: LogInspectionSettings): RulesetSources {
  const dirs = [
    ...(s.rules.bundled ? [BUNDLED_LOG_RULES_DIR] : []),
    ...(s.rules.wazuhRuleset ? wazuhRuleDirs(s.rules.wazuhRuleset) : []),
    ...s.rules.dirs,
  ];
  if (s.rules.wazuhRuleset && !wazuhRuleDirs(s.rules.wazuhRuleset).length)
    throw new LogInspectionError('LOGINSP_RULES_UNREADABLE', `${s.rules.wazuhRuleset}: no decoders/ or rules/ folder found`);
  try {
    return readRuleSources(dirs);
  } catch (err) {
    throw new LogInspectionError('LOGINSP_RULES_UNREADABLE', `cannot read the log rules: ${(err as Error).message}`);
  }
}

export class LogInspectionError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/**
 * Log inspection as an agent module: follows files (rotation, truncation, restarts: see
 * FileTailer) and the systemd journal, runs every line through the OSSEC/Wazuh rules engine
 * (in a worker under a per-line time budget, one session so correlation spans lines), and
 * turns alerts into agent events. Offsets and the journal cursor are saved only after the
 * alerts of the lines before them are in the spool: a crash re-reads, never skips.
 */
export class LogInspectionModule implements AgentModule {
  readonly name = 'log-inspection';
  private ctx: ModuleContext | undefined;
  private settings: LogInspectionSettings | undefined;
  private engine: WatchedEngine | undefined;
  /** Warnings of the rule set last loaded (kept when the engine is stopped for want of a source). */
  private ruleWarnings = 0;
  private rulesKey = '';
  private tailer: FileTailer | undefined;
  private journal: JournaldReader | undefined;
  private commandRunner: CommandRunner | undefined;
  /** Line groupers (multi-line, audit) per followed file (`dev:ino`). */
  private readonly groups = new Map<string, FileGroup>();
  private journalState = 'off';
  private timer: NodeJS.Timeout | undefined;
  private pumping: Promise<void> | undefined;
  private running = false;
  private state: ModuleStatus = { state: 'off' };
  private readonly counters = { lines: 0, alerts: 0, skipped: 0 };

  constructor(private readonly options: LogInspectionModuleOptions = {}) {}

  async capabilities(): Promise<ModuleCapabilities> {
    return { supported: true };
  }

  configure(config: ModuleConfig): ModuleDiagnostic[] {
    return parseLogInspectionSettings(config).diagnostics;
  }

  async start(ctx: ModuleContext): Promise<void> {
    this.ctx = ctx;
    this.state = { state: 'starting' };
    await this.apply(ctx.config);
  }

  async reconfigure(config: ModuleConfig): Promise<void> {
    await this.apply(config);
  }

  async stop(): Promise<void> {
    await this.stopCollection();
    await this.engine?.stop();
    this.engine = undefined;
    this.rulesKey = '';
    this.state = { state: 'off' };
  }

  status(): ModuleStatus {
    if (this.state.state !== 'running') return this.state;
    const files = this.tailer?.tracked() ?? [];
    return {
      state: 'running',
      details: {
        files: files.slice(0, 50),
        filesFollowed: files.length,
        journald: this.journalState,
        ...this.counters,
        engineRestarts: this.engine?.restarts ?? 0,
        ruleWarnings: this.ruleWarnings,
        engine: this.engine ? 'running' : 'stopped: no source configured',
        ...(this.commandRunner ? { commands: this.commandRunner.status() } : {}),
        ...(this.tailer?.warnings.length || this.commandRunner?.warnings.length
          ? { warnings: [...(this.tailer?.warnings ?? []), ...(this.commandRunner?.warnings ?? [])].slice(-5) }
          : {}),
      },
    };
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private async apply(config: ModuleConfig): Promise<void> {
    const ctx = this.ctx!;
    const { settings, diagnostics } = parseLogInspectionSettings(config);
    if (!settings) throw new Error(diagnostics.map((d) => `${d.code}: ${d.message}`).join('; '));
    await this.stopCollection();
    try {
      // A new engine (and with it fresh correlation state) only when the rules changed.
      const key = JSON.stringify([settings.rules, settings.minLevel, settings.lineBudgetMs]);
      // No file, command or journal to read: the rules are still loaded once (so a broken rule
      // set is reported now, not when a source is added), then the worker holding them is
      // stopped; it costs ~8 MB of RSS for nothing while the policy names no source.
      const hasSource = settings.files.length > 0 || settings.commands.length > 0 || settings.journald !== undefined;
      if (!this.engine || key !== this.rulesKey) {
        const engine = new WatchedEngine({
          sources: ruleSources(settings),
          lineBudgetMs: settings.lineBudgetMs,
          minLevel: settings.minLevel,
        });
        await engine.start();
        for (const d of engine.warnings.slice(0, 20)) ctx.logger.warn({ diagnostic: formatDiagnostic(d) }, 'log-inspection: rule warning');
        await this.engine?.stop();
        this.engine = engine;
        this.rulesKey = key;
        this.ruleWarnings = engine.warnings.length;
      }
      if (!hasSource) {
        await this.engine.stop();
        this.engine = undefined;
        this.rulesKey = '';
      }
    } catch (err) {
      const reason =
        err instanceof RulesetLoadError
          ? `LOGINSP_RULES_INVALID: ${err.diagnostics
              .filter((d) => d.severity === 'error')
              .slice(0, 5)
              .map((d) => formatDiagnostic(d))
              .join('; ')}`
          : String((err as Error).message ?? err);
      this.state = { state: 'error', reason: reason.slice(0, 1000) };
      throw new Error(reason);
    }
    this.settings = settings;
    this.tailer = new FileTailer({
      sources: settings.files.map((f) => ({
        pattern: f.path,
        format: encodeSourceFormat(f.format, f.multiline),
        ...(f.location ? { location: f.location } : {}),
      })),
      stateFile: join(ctx.dataDir, 'files.json'),
      startAt: settings.startAt,
      maxLineBytes: settings.maxLineBytes,
      rotationGraceMs: settings.rotationGraceSeconds * 1000,
      ...(this.options.now ? { now: this.options.now } : {}),
    });
    this.startJournal(settings);
    this.commandRunner = settings.commands.length ? new CommandRunner(settings.commands, () => this.now()) : undefined;
    this.running = true;
    this.state = { state: 'running' };
    this.schedule(0);
  }

  private startJournal(s: LogInspectionSettings): void {
    if (!s.journald) {
      this.journalState = 'off';
      return;
    }
    const avail = journaldAvailability(this.options.journalctl, s.journald.namespace);
    if (!avail.available) {
      this.journalState = `unavailable: ${avail.reason}`;
      this.ctx!.logger.warn({ reason: avail.reason }, 'log-inspection: journald is not available here, the journal source is skipped');
      return;
    }
    const reader = new JournaldReader({
      units: s.journald.units,
      ...(s.journald.namespace ? { namespace: s.journald.namespace } : {}),
      cursorFile: join(this.ctx!.dataDir, s.journald.namespace ? `journal-${s.journald.namespace}.cursor` : 'journal.cursor'),
      ...(this.options.journalctl ? { journalctl: this.options.journalctl } : {}),
      onExit: (code, stderr) => {
        if (this.journal !== reader || !this.running) return;
        this.journalState = `stopped: journalctl exited with ${code}${stderr ? `: ${stderr.trim().slice(-300)}` : ''}`;
        this.ctx?.logger.warn({ code, stderr: stderr.slice(-500) }, 'log-inspection: journalctl exited');
      },
    });
    reader.start();
    this.journal = reader;
    this.journalState = 'following';
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pumping = this.pump().finally(() => {
        this.pumping = undefined;
      });
    }, ms);
    this.timer.unref();
  }

  /** One round: read what is new, evaluate it, emit alerts, then save where we are. */
  private async pump(): Promise<void> {
    let again = false;
    try {
      again = await this.round(true);
    } catch (err) {
      this.ctx?.logger.error({ err: String((err as Error)?.stack ?? err) }, 'log-inspection: collection round failed');
    }
    this.schedule(again ? 0 : (this.settings?.pollIntervalMs ?? 500));
  }

  /** Returns whether more input is already waiting. */
  private async round(readFiles: boolean): Promise<boolean> {
    const tailer = this.tailer;
    const engine = this.engine;
    if (!engine) return false;
    let batch: TailBatch | undefined;
    if (readFiles && tailer) {
      try {
        batch = tailer.poll();
      } catch (err) {
        this.ctx?.logger.error({ err: String(err) }, 'log-inspection: reading files failed');
        tailer.rewind();
      }
    }
    const journal = this.journal?.take(ENGINE_BATCH * 5) ?? [];
    const nowSec = this.now() / 1000;
    const lines: EngineLine[] = [];
    const origins: LineOrigin[] = [];
    for (const l of batch?.lines ?? []) {
      const { format, multiline } = decodeSourceFormat(l.format);
      if (!multiline) {
        lines.push({ text: l.text, location: l.location, format: engineFormat(format), time: nowSec });
        origins.push({ source: 'file', path: l.path });
        continue;
      }
      let g = this.groups.get(l.file);
      if (!g || g.sourceFormat !== l.format) {
        g = { grouper: new LineGrouper(multiline, () => this.now()), location: l.location, path: l.path, format, sourceFormat: l.format };
        this.groups.set(l.file, g);
      }
      g.location = l.location;
      g.path = l.path;
      for (const rec of g.grouper.push({ text: l.text, start: l.start, end: l.end })) {
        lines.push({ text: rec.text, location: l.location, format: engineFormat(format), time: nowSec });
        origins.push({ source: 'file', path: l.path });
      }
    }
    // Records nothing was appended to for their timeout are complete.
    for (const [file, g] of this.groups) {
      // A file idle for an hour (rotated away, finished) needs no grouper; a new one starts if it grows.
      if (g.grouper.pendingStart === undefined && g.grouper.idleMs() > 3_600_000) {
        this.groups.delete(file);
        continue;
      }
      for (const rec of g.grouper.flushDue()) {
        lines.push({ text: rec.text, location: g.location, format: engineFormat(g.format), time: nowSec });
        origins.push({ source: 'file', path: g.path });
      }
    }
    for (const j of journal) {
      lines.push({ text: j.text, location: 'journald', format: 'syslog', time: j.time });
      origins.push({ source: 'journald', ...(j.unit ? { unit: j.unit } : {}) });
    }
    // No new runs while stopping (the journal is drained with running already false).
    if (this.running) this.commandRunner?.tick();
    const commandsStart = lines.length;
    const commandEvents: CommandEvent[] = this.commandRunner?.take(ENGINE_BATCH * 5) ?? [];
    for (const c of commandEvents) {
      lines.push({ text: c.text, location: c.location, format: 'raw', time: c.time / 1000 });
      origins.push({ source: 'command', alias: c.alias });
    }
    let done = 0;
    try {
      for (let i = 0; i < lines.length; i += ENGINE_BATCH) {
        const part = lines.slice(i, i + ENGINE_BATCH);
        await this.evaluate(engine, part, origins, i);
        done = i + part.length;
      }
    } catch (err) {
      // Nothing of this round is committed: the files are read again from the last commit and
      // the journal entries not yet handled go back to the queue. Lines already evaluated may
      // alert twice; none is lost.
      tailer?.rewind();
      // The files are read again from their saved offsets, which lie before any pending record.
      this.groups.clear();
      const journalStart = commandsStart - journal.length;
      this.journal?.requeue(journal.slice(Math.max(0, done - journalStart)));
      const handled = journal.slice(0, Math.max(0, done - journalStart)).at(-1);
      if (handled) this.journal?.commit(handled.cursor);
      this.commandRunner?.requeue(commandEvents.slice(Math.max(0, done - commandsStart)));
      throw err;
    }
    // Every alert of these lines is in the spool now: only then move the resume points. A file
    // with an unfinished record keeps its offset before that record, so a restart re-reads it.
    if (batch && tailer) {
      for (const [file, g] of this.groups) {
        const pending = g.grouper.pendingStart;
        if (pending !== undefined) batch.ends.set(file, pending);
        else if (!batch.ends.has(file) && g.grouper.consumed >= 0) batch.ends.set(file, g.grouper.consumed);
      }
      tailer.commit(batch);
    }
    const last = journal.at(-1);
    if (last) this.journal?.commit(last.cursor);
    return !!batch?.more || (this.journal?.queued ?? 0) > 0 || (this.commandRunner?.queued ?? 0) > 0;
  }

  /** Runs `part` (lines `i`… of the round) through the engine and emits its events in line order. */
  private async evaluate(engine: WatchedEngine, part: EngineLine[], origins: LineOrigin[], i: number): Promise<void> {
    const r = await engine.process(part);
    this.counters.lines += part.length;
    const out = [...r.alerts.map((a) => ({ index: a.index, a })), ...r.skipped.map((s) => ({ index: s.index, s }))].sort(
      (x, y) => x.index - y.index,
    );
    for (const o of out) {
      if ('a' in o) this.emitAlert(o.a, origins[i + o.index]!);
      else this.emitSkipped(o.s, part[o.index]!, origins[i + o.index]!);
    }
  }

  private emitAlert(a: EngineAlert, origin: LineOrigin): void {
    this.counters.alerts++;
    const e = a.event;
    this.ctx?.emit({
      type: 'log-inspection.alert',
      severity: severityOfLevel(a.rule.level),
      message: `${a.rule.description} (rule ${a.rule.id}, level ${a.rule.level}, ${e.location})`.slice(0, 4000),
      ruleId: String(a.rule.id),
      details: {
        ruleId: a.rule.id,
        level: a.rule.level,
        description: a.rule.description,
        groups: a.rule.groups,
        ...(a.rule.mitre.length ? { mitre: a.rule.mitre } : {}),
        ...(a.rule.firedtimes !== undefined ? { firedtimes: a.rule.firedtimes } : {}),
        location: e.location,
        source: origin.source,
        ...(origin.path && origin.path !== e.location ? { path: origin.path } : {}),
        ...(origin.unit ? { unit: origin.unit } : {}),
        ...(origin.alias ? { command: origin.alias } : {}),
        ...(e.previousOutput !== undefined ? { previousOutput: e.previousOutput } : {}),
        ...(e.decoder !== undefined ? { decoder: e.decoder } : {}),
        ...(e.parentDecoder !== undefined ? { parentDecoder: e.parentDecoder } : {}),
        ...(e.hostname !== undefined ? { hostname: e.hostname } : {}),
        ...(e.programName !== undefined ? { programName: e.programName } : {}),
        ...(e.timestamp !== undefined ? { timestamp: e.timestamp } : {}),
        fields: e.fields,
        fullLog: e.fullLog,
      },
    });
  }

  private emitSkipped(s: SkippedLine, line: EngineLine, origin: LineOrigin): void {
    this.counters.skipped++;
    this.ctx?.emit({
      type: 'log-inspection.line-skipped',
      severity: 'medium',
      message: `${line.location}: a line was not inspected: ${s.message}`.slice(0, 4000),
      details: {
        reason: s.reason,
        message: s.message,
        location: line.location,
        source: origin.source,
        line: line.text.slice(0, 2000),
        lineBudgetMs: this.settings?.lineBudgetMs,
      },
    });
  }

  /** Stops reading; whatever was read is evaluated and committed first. */
  private async stopCollection(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.pumping;
    const journal = this.journal;
    if (journal) {
      await journal.stop();
      // What journalctl printed before it stopped is handled now, so its cursor can be saved.
      try {
        while (journal.queued > 0) await this.round(false);
      } catch (err) {
        this.ctx?.logger.warn({ err: String(err) }, 'log-inspection: journal entries left for the next start');
      }
    }
    this.journal = undefined;
    await this.commandRunner?.stop();
    this.commandRunner = undefined;
    // Pending records are dropped: their files' saved offsets lie before them, the next start re-reads them.
    this.groups.clear();
    this.tailer?.close();
    this.tailer = undefined;
  }
}
