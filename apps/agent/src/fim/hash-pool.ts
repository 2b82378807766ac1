import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ScanThrottle } from './scan-throttle.ts';

export interface HashJob {
  path: string;
  algos: readonly string[];
  size: number;
}

export type HashResult = { hashes: Record<string, string> } | { error: string };

/*
 * The worker is plain JavaScript evaluated from a string: it then runs the same under tsx, plain
 * node and a bundled CLI, without resolving a .ts file at run time. It reads with one reused buffer
 * and synchronous calls, which is the fastest way to hash many small files from a thread that has
 * nothing else to do. O_NOATIME keeps a scan from touching access times (it needs ownership or
 * root, hence the retry without it); O_NONBLOCK keeps a file swapped for a FIFO from hanging it.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const crypto = require('node:crypto');
const C = fs.constants;
const buf = Buffer.allocUnsafe(1 << 20);
let noatime = C.O_NOATIME || 0;
function open(p) {
  const base = C.O_RDONLY | (C.O_NOFOLLOW || 0) | (C.O_NONBLOCK || 0);
  if (noatime) {
    try { return fs.openSync(p, base | noatime); }
    catch (e) { if (e.code !== 'EPERM') throw e; noatime = 0; }
  }
  return fs.openSync(p, base);
}
parentPort.on('message', (batch) => {
  const out = new Array(batch.jobs.length);
  for (let i = 0; i < batch.jobs.length; i++) {
    const job = batch.jobs[i];
    let fd;
    try {
      fd = open(job.path);
      if (!fs.fstatSync(fd).isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTREG' });
      const hs = job.algos.map((a) => crypto.createHash(a));
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, null);
        if (n <= 0) break;
        const chunk = buf.subarray(0, n);
        for (const h of hs) h.update(chunk);
      }
      const hashes = {};
      job.algos.forEach((a, k) => { hashes[a] = hs[k].digest('hex'); });
      out[i] = { hashes };
    } catch (e) {
      out[i] = { error: e.code || String(e.message) };
    } finally {
      if (fd !== undefined) try { fs.closeSync(fd); } catch {}
    }
  }
  parentPort.postMessage({ id: batch.id, results: out });
});
`;

/**
 * Hashes files in worker threads so the event loop of the daemon (or the CLI's progress bar)
 * keeps running. Jobs go out in batches to pay the message cost once per many small files.
 */
export class HashPool {
  private readonly workers: Worker[];

  constructor(readonly size = Math.max(1, Math.min(4, availableParallelism()))) {
    // execArgv: [] keeps loaders of the parent (tsx in development) out of the plain-JS workers.
    this.workers = Array.from({ length: size }, () => new Worker(WORKER_SOURCE, { eval: true, execArgv: [] }));
  }

  /** Results in job order; `onProgress` gets the number of files and bytes done so far. */
  async hashAll(
    jobs: readonly HashJob[],
    onProgress?: (files: number, bytes: number) => void,
    throttle?: ScanThrottle,
  ): Promise<HashResult[]> {
    const results: HashResult[] = new Array(jobs.length);
    const batches: { start: number; end: number; bytes: number }[] = [];
    for (let i = 0; i < jobs.length; ) {
      let bytes = 0;
      const start = i;
      while (i < jobs.length && i - start < 128 && bytes < 8 << 20) bytes += jobs[i++]!.size;
      batches.push({ start, end: i, bytes });
    }
    let next = 0;
    let doneFiles = 0;
    let doneBytes = 0;
    const run = (w: Worker): Promise<void> =>
      new Promise((resolve, reject) => {
        // Two batches in flight per worker, so it never waits for the main thread between batches.
        let inFlight = 0;
        const send = () => {
          if (next >= batches.length) {
            if (inFlight === 0) {
              w.off('message', onMessage);
              w.off('error', reject);
              w.off('exit', onExit);
              resolve();
            }
            return;
          }
          inFlight++;
          const id = next++;
          const b = batches[id]!;
          const post = () => w.postMessage({ id, jobs: jobs.slice(b.start, b.end) });
          const wait = throttle?.beforeBytes(b.bytes) ?? 0;
          if (wait > 0) setTimeout(post, wait);
          else post();
        };
        const onMessage = (msg: { id: number; results: HashResult[] }) => {
          const b = batches[msg.id]!;
          for (let k = 0; k < msg.results.length; k++) results[b.start + k] = msg.results[k]!;
          doneFiles += b.end - b.start;
          doneBytes += b.bytes;
          onProgress?.(doneFiles, doneBytes);
          inFlight--;
          send();
        };
        // close() during a scan (the agent stopping) must end the scan, not leave it waiting.
        const onExit = () => reject(new Error('hash worker exited'));
        w.on('message', onMessage);
        w.on('error', reject);
        w.on('exit', onExit);
        send();
        send();
      });
    await Promise.all(this.workers.map(run));
    return results;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
