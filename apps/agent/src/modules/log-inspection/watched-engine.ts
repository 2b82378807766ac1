import { Worker } from 'node:worker_threads';
import type { Diagnostic } from '@palisade/diagnostics';
import type { DecodedEvent, MatchedRule, RulesetSources } from '@palisade/log-rules';

/** One line for the engine, with what the rules see besides its text. */
export interface EngineLine {
  text: string;
  location: string;
  format: string;
  /** Event time, seconds (correlation windows are measured with it). */
  time: number;
}

export interface EngineAlert {
  /** Index of the line in the batch given to `process()`. */
  index: number;
  rule: MatchedRule;
  event: Omit<DecodedEvent, 'log'>;
}

export interface SkippedLine {
  index: number;
  reason: 'timeout' | 'error';
  message: string;
}

export interface EngineBatchResult {
  alerts: EngineAlert[];
  skipped: SkippedLine[];
}

export interface WatchedEngineOptions {
  sources: RulesetSources;
  /** Longest one line may spend in the rules before the worker is replaced and the line skipped. */
  lineBudgetMs: number;
  /** Alerts below this rule level are not returned. */
  minLevel: number;
}

/** The ruleset did not load: nothing runs (all-or-nothing, like the engine). */
export class RulesetLoadError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(`the log rules did not load: ${diagnostics.filter((d) => d.severity === 'error').length} error(s)`);
  }
}

interface Running {
  id: number;
  resolve(r: { alerts: EngineAlert[]; errors: { index: number; message: string }[] } | { stuckAt: number }): void;
}

/**
 * Runs the log rules engine in a worker thread under a watchdog: while a line is evaluated the
 * worker bumps a shared counter; when one line holds it longer than the budget (a pathological
 * regex, which no JS regex can be interrupted in) the worker is terminated, a fresh one loads
 * the ruleset, the batch is run again without that line, and the line is reported as skipped.
 * Collection never waits longer than the budget plus one ruleset load per bad line. The price:
 * correlation state of the old worker (earlier batches) is lost at each such restart.
 */
export class WatchedEngine {
  private worker: Worker | undefined;
  private readonly progress = new SharedArrayBuffer(12);
  private readonly p = new Int32Array(this.progress);
  private running: Running | undefined;
  private nextId = 0;
  private watchdog: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Load warnings of the last (re)start. */
  warnings: Diagnostic[] = [];
  restarts = 0;
  linesProcessed = 0;
  linesSkipped = 0;

  constructor(private readonly options: WatchedEngineOptions) {}

  async start(): Promise<void> {
    await this.spawn();
  }

  /** Evaluates the lines in order; resolves when every line was evaluated or skipped. */
  async process(lines: EngineLine[]): Promise<EngineBatchResult> {
    const skipped: SkippedLine[] = [];
    const skip = new Set<number>();
    for (;;) {
      if (this.stopped) throw new Error('log rules engine is stopped');
      // A worker that could not be replaced last time (its start failed) is tried again.
      if (!this.worker) await this.spawn();
      const r = await this.runOnce(lines, skip);
      if ('alerts' in r) {
        for (const e of r.errors) skipped.push({ index: e.index, reason: 'error', message: e.message });
        this.linesProcessed += lines.length - skip.size - r.errors.length;
        this.linesSkipped += skipped.length;
        return { alerts: r.alerts, skipped: skipped.sort((a, b) => a.index - b.index) };
      }
      // The dead worker never reported the lines before the stuck one: the new worker runs the
      // whole batch again without it (those lines did finish in time, they will again).
      skip.add(r.stuckAt);
      skipped.push({
        index: r.stuckAt,
        reason: 'timeout',
        message: `evaluating the line took longer than ${this.options.lineBudgetMs} ms`,
      });
      this.restarts++;
      await this.spawn();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clearWatchdog();
    const w = this.worker;
    this.worker = undefined;
    await w?.terminate();
  }

  private spawn(): Promise<void> {
    const old = this.worker;
    this.worker = undefined;
    if (old) void old.terminate();
    Atomics.store(this.p, 0, 0);
    const url = new URL('./engine-worker.ts', import.meta.url);
    // Node 20 does not carry `--import tsx` into worker threads: the worker registers it first.
    const boot = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(url.href)}); })`;
    const w = new Worker(boot, {
      eval: true,
      workerData: { sources: this.options.sources, progress: this.progress, minLevel: this.options.minLevel },
    });
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      w.on('message', (m: { type: string; id?: number; diagnostics?: Diagnostic[]; alerts?: EngineAlert[]; errors?: [] }) => {
        if (m.type === 'ready') {
          ready = true;
          this.warnings = m.diagnostics ?? [];
          this.worker = w;
          resolve();
        } else if (m.type === 'fatal') {
          void w.terminate();
          reject(new RulesetLoadError(m.diagnostics ?? []));
        } else if (m.type === 'result' && this.worker === w && this.running?.id === m.id) {
          const run = this.running!;
          this.running = undefined;
          this.clearWatchdog();
          run.resolve({ alerts: m.alerts ?? [], errors: m.errors ?? [] });
        }
      });
      w.once('error', (e) => {
        if (!ready) reject(e);
      });
      w.once('exit', () => {
        if (!ready) reject(new Error('log rules worker exited while loading'));
        // A worker that dies mid-batch (out of memory, a crash) is treated like a stuck line.
        else if (this.worker === w && this.running) this.declareStuck();
      });
    });
  }

  private runOnce(
    lines: EngineLine[],
    skip: Set<number>,
  ): Promise<{ alerts: EngineAlert[]; errors: { index: number; message: string }[] } | { stuckAt: number }> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.running = { id, resolve };
      this.startWatchdog();
      this.worker!.postMessage({ id, lines, skip: [...skip] });
    });
  }

  private startWatchdog(): void {
    this.clearWatchdog();
    let lastCount = Atomics.load(this.p, 2);
    let since = performance.now();
    const budget = this.options.lineBudgetMs;
    this.watchdog = setInterval(
      () => {
        const count = Atomics.load(this.p, 2);
        const busy = Atomics.load(this.p, 0) === 1;
        const now = performance.now();
        if (count !== lastCount || !busy) {
          lastCount = count;
          since = now;
          return;
        }
        if (now - since >= budget) this.declareStuck();
      },
      Math.max(5, Math.floor(budget / 4)),
    );
  }

  /** The line in progress is the culprit: give up on this worker and tell the batch where it stopped. */
  private declareStuck(): void {
    const run = this.running;
    if (!run) return;
    this.running = undefined;
    this.clearWatchdog();
    const stuckAt = Atomics.load(this.p, 1);
    // Only terminating the thread interrupts a running regex; process() spawns the replacement.
    void this.worker?.terminate();
    run.resolve({ stuckAt });
  }

  private clearWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = undefined;
  }
}
