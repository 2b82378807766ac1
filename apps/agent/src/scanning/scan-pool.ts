import { Worker } from 'node:worker_threads';
import type { Diagnostic } from '@palisade/diagnostics';
import type { SignatureSources } from '@palisade/signatures';
import type { FileScanOptions, FileScanResult } from './file-scanner.ts';

/**
 * Scans files on worker threads. Each worker compiles the signature set once; files are handed
 * out one at a time so a large file does not hold up a queue behind it.
 */
export class ScanPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly waiting: { path: string; resolve: (r: FileScanResult) => void; reject: (e: Error) => void }[] = [];
  private readonly pending = new Map<number, { resolve: (r: FileScanResult) => void; reject: (e: Error) => void }>();
  private nextId = 0;

  private constructor() {}

  static async start(
    size: number,
    sources: SignatureSources,
    skipInvalid: boolean,
    scan: FileScanOptions,
  ): Promise<ScanPool> {
    const pool = new ScanPool();
    const url = new URL('./scan-worker.ts', import.meta.url);
    // The worker is TypeScript source like the rest of the tree. Node 20 does not carry the
    // parent's `--import tsx` loader into worker threads, so the worker registers it first.
    const boot = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(url.href)}); })`;
    await Promise.all(
      Array.from({ length: Math.max(1, size) }, async () => {
        const w = new Worker(boot, { eval: true, workerData: { sources, skipInvalid, scan } });
        pool.workers.push(w);
        await new Promise<void>((resolve, reject) => {
          const onMsg = (m: { type: string; diagnostics?: Diagnostic[] }) => {
            if (m.type === 'ready') {
              w.off('message', onMsg);
              resolve();
            } else if (m.type === 'fatal') reject(new Error(`signature set refused: ${m.diagnostics?.length ?? 0} problems`));
          };
          w.on('message', onMsg);
          w.once('error', reject);
        });
        w.on('message', (m: { type: string; id: number; result: FileScanResult }) => {
          if (m.type !== 'result') return;
          const p = pool.pending.get(m.id);
          pool.pending.delete(m.id);
          p?.resolve(m.result);
          pool.release(w);
        });
        w.on('error', (e) => {
          for (const p of pool.pending.values()) p.reject(e);
          pool.pending.clear();
        });
        pool.idle.push(w);
      }),
    );
    return pool;
  }

  scan(path: string): Promise<FileScanResult> {
    return new Promise((resolve, reject) => {
      const w = this.idle.pop();
      if (w) this.dispatch(w, path, resolve, reject);
      else this.waiting.push({ path, resolve, reject });
    });
  }

  private dispatch(w: Worker, path: string, resolve: (r: FileScanResult) => void, reject: (e: Error) => void): void {
    const id = this.nextId++;
    this.pending.set(id, { resolve, reject });
    w.postMessage({ id, path });
  }

  private release(w: Worker): void {
    const next = this.waiting.shift();
    if (next) this.dispatch(w, next.path, next.resolve, next.reject);
    else this.idle.push(w);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
