import { Worker } from 'node:worker_threads';
import type { InspectedRequest, InspectionVerdict } from '@palisade/ips-middleware';
import type { IpsSettings } from './ips-settings.ts';

interface Pending {
  resolve(v: InspectionVerdict): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * One engine worker with a time budget per request. When a request exceeds the budget (a
 * pathological input) or the worker dies, every request in flight fails (the proxy applies
 * fail-open/closed) and a fresh worker is started; the proxy itself never stops serving.
 */
export class InspectionPool {
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private stopped = false;
  ruleCount = 0;
  restarts = 0;

  constructor(
    private readonly settings: IpsSettings,
    private readonly patchIds: readonly string[] | undefined,
    private readonly timeoutMs: number,
  ) {}

  async start(): Promise<void> {
    this.spawn();
    await this.ready;
  }

  private spawn(): void {
    const url = new URL('./inspection-worker.ts', import.meta.url);
    // Node 20 does not carry `--import tsx` into worker threads: the worker registers it first.
    const boot = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(url.href)}); })`;
    const w = new Worker(boot, { eval: true, workerData: { settings: this.settings, patchIds: this.patchIds } });
    this.worker = w;
    this.ready = new Promise<void>((resolve, reject) => {
      w.on(
        'message',
        (m: {
          type: string;
          id?: number;
          ruleCount?: number;
          message?: string;
          interruption?: InspectionVerdict['interruption'];
          matchedRules?: InspectionVerdict['matchedRules'];
        }) => {
          if (m.type === 'ready') {
            this.ruleCount = m.ruleCount ?? 0;
            resolve();
          } else if (m.type === 'fatal') reject(new Error(m.message));
          else if (m.id !== undefined) {
            const p = this.pending.get(m.id);
            if (!p) return;
            this.pending.delete(m.id);
            clearTimeout(p.timer);
            if (m.type === 'result') p.resolve({ interruption: m.interruption ?? null, matchedRules: m.matchedRules ?? [] });
            else p.reject(new Error(m.message ?? 'inspection failed'));
          }
        },
      );
      w.once('error', (e) => reject(e));
    });
    this.ready.catch(() => undefined);
    w.once('exit', () => {
      if (this.worker !== w) return;
      this.failAll(new Error('inspection worker exited'));
      this.worker = undefined;
      if (!this.stopped) {
        this.restarts++;
        this.spawn();
      }
    });
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }

  async inspect(req: InspectedRequest, body?: Uint8Array): Promise<InspectionVerdict> {
    await this.ready;
    const w = this.worker;
    if (!w) throw new Error('inspection worker not running');
    const id = this.nextId++;
    return new Promise<InspectionVerdict>((resolve, reject) => {
      const timer = setTimeout(() => {
        // The worker is stuck in synchronous rule evaluation: only terminating it frees it.
        this.pending.delete(id);
        reject(new Error(`inspection exceeded ${this.timeoutMs} ms`));
        void w.terminate();
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      w.postMessage({ id, req, body });
    });
  }

  /** Terminates the current worker (as a crash would); a new one is started. */
  async kill(): Promise<void> {
    await this.worker?.terminate();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.failAll(new Error('stopped'));
    await this.worker?.terminate();
  }
}
