import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | null | undefined;

/**
 * One full garbage collection, after a burst that left a lot of dead objects (a full integrity
 * scan, an application-control inventory). V8 collects when the program allocates; an idle agent
 * allocates almost nothing, so the ~140 MB a scan of 80,000 entities leaves behind stayed
 * committed for good (measured: heap 153 MB used, 14 MB of it live, RSS 258 MB for 90 s and
 * counting; with this call, RSS 138 MB within 10 s). Costs ~20 ms of CPU once per scan.
 *
 * `gc` is not exposed without --expose-gc: the flag is set now and the function taken from a
 * new context (where the flag applies). If that ever stops working, this does nothing.
 */
export function releaseGarbage(): void {
  if (gc === undefined) {
    try {
      const exposed = (globalThis as { gc?: () => void }).gc;
      if (exposed) gc = exposed;
      else {
        setFlagsFromString('--expose-gc');
        const f = runInNewContext('gc') as unknown;
        gc = typeof f === 'function' ? (f as () => void) : null;
      }
    } catch {
      gc = null;
    }
  }
  gc?.();
}
