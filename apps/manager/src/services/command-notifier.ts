import { EventEmitter } from 'node:events';

/**
 * Wakes a held long-poll as soon as a command is queued on this node. Commands queued on another
 * manager node are found by the poll loop's periodic re-check instead (see ADR 0004).
 */
export class CommandNotifier {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  notify(computerId: string): void {
    this.emitter.emit(computerId);
  }

  /** Resolves when notified or after `ms`, whichever is first. */
  wait(computerId: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.emitter.off(computerId, done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.emitter.on(computerId, done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
