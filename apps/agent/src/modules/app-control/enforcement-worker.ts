import { Worker } from 'node:worker_threads';
import type { FromThread, Observation, PolicySnapshot, ToThread } from './enforcement-messages.ts';
import type { GateMarks, GateStats } from './gate-process.ts';
import type { PackageDatabaseOptions } from './package-database.ts';

export interface EnforcementOptions {
  marks: GateMarks;
  timeoutMs: number;
  policy: PolicySnapshot;
  exemptPids?: number[];
  binary?: string;
  /** Tests only: hold every answer this long (to exercise the timeout and the fail-open paths). */
  decisionDelayMs?: number;
  packageDatabase?: PackageDatabaseOptions;
  onObservation(o: Observation): void;
  onTimeout(id: number, path?: string): void;
  onError(message: string): void;
  /** The helper ended without stop(): enforcement is gone (and the host fails open). */
  onExit(code: number | null, signal: string | null): void;
}

/** Main-thread handle of the enforcement thread (enforcement-thread.ts). */
export class EnforcementWorker {
  private worker: Worker | undefined;
  private statsId = 0;
  private readonly statsWaiters = new Map<number, (s: GateStats) => void>();
  private readonly appliedWaiters = new Map<number, () => void>();
  private stopping = false;
  hashImpl = '';
  helperPid = 0;

  async start(o: EnforcementOptions): Promise<void> {
    const url = new URL('./enforcement-thread.ts', import.meta.url);
    // Node 20 does not carry `--import tsx` into worker threads: the worker registers it first.
    const boot = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(url.href)}); })`;
    const w = new Worker(boot, { eval: true });
    this.worker = w;
    await new Promise<void>((resolve, reject) => {
      w.on('message', (m: FromThread) => {
        switch (m.type) {
          case 'ready':
            this.hashImpl = m.hashImpl;
            this.helperPid = m.helperPid;
            resolve();
            break;
          case 'failed':
            reject(new Error(m.message));
            break;
          case 'observation':
            o.onObservation(m.observation);
            break;
          case 'timeout':
            o.onTimeout(m.id, m.path);
            break;
          case 'error':
            o.onError(m.message);
            break;
          case 'stats':
            this.statsWaiters.get(m.id)?.(m.stats);
            this.statsWaiters.delete(m.id);
            break;
          case 'applied':
            this.appliedWaiters.get(m.id)?.();
            this.appliedWaiters.delete(m.id);
            break;
          case 'exited':
            if (!this.stopping) o.onExit(m.code, m.signal);
            break;
        }
      });
      w.once('error', (e) => {
        reject(e);
        if (!this.stopping) o.onError(`enforcement thread failed: ${e.message}`);
      });
      w.once('exit', (code) => {
        reject(new Error(`enforcement thread exited (${code})`));
        if (!this.stopping) o.onExit(code, null);
      });
      this.post({
        type: 'start',
        marks: o.marks,
        timeoutMs: o.timeoutMs,
        exemptPids: o.exemptPids ?? [],
        policy: o.policy,
        ...(o.binary ? { binary: o.binary } : {}),
        ...(o.decisionDelayMs ? { decisionDelayMs: o.decisionDelayMs } : {}),
        ...(o.packageDatabase ? { packageDatabase: o.packageDatabase } : {}),
      });
    });
  }

  private post(m: ToThread): void {
    this.worker?.postMessage(m);
  }

  /**
   * Sends a new policy; resolves once the helper runs with it (old cached verdicts gone), so an
   * operator's allow is in force when the command returns.
   */
  update(policy: PolicySnapshot): Promise<void> {
    if (!this.worker) return Promise.resolve();
    const id = ++this.statsId;
    return new Promise((resolve) => {
      this.appliedWaiters.set(id, resolve);
      this.post({ type: 'policy', id, policy });
      setTimeout(() => {
        if (this.appliedWaiters.delete(id)) resolve();
      }, 5000).unref();
    });
  }

  stats(): Promise<GateStats | undefined> {
    if (!this.worker) return Promise.resolve(undefined);
    const id = ++this.statsId;
    return new Promise((resolve) => {
      this.statsWaiters.set(id, resolve);
      this.post({ type: 'stats', id });
      setTimeout(() => {
        if (this.statsWaiters.delete(id)) resolve(undefined);
      }, 2000).unref();
    });
  }

  async stop(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (!w) return;
    this.stopping = true;
    const exited = new Promise<void>((r) => w.once('exit', () => r()));
    w.postMessage({ type: 'stop' } satisfies ToThread);
    const t = setTimeout(() => void w.terminate(), 3000);
    await exited;
    clearTimeout(t);
  }
}
