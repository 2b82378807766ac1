import type { HeartbeatRequest } from '@palisade/protocol';
import type { TenantStore } from '../store/tenant-store.ts';

/**
 * Heartbeats are soft state (last seen, module status, applied config hash): writing each in
 * its own durable transaction made PostgreSQL fsync a thousand times a second for 10,000 agents.
 * The latest heartbeat per computer is kept here and flushed once per `intervalMs` in one
 * transaction per tenant. A crash loses at most that much "last seen", never an event (events
 * are stored durably before they are acknowledged).
 */
export class HeartbeatWriter {
  private readonly pending = new Map<TenantStore, Map<string, { hb: HeartbeatRequest; heartbeatSeconds: number; at: Date }>>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly intervalMs = 1000) {}

  record(store: TenantStore, computerId: string, hb: HeartbeatRequest, heartbeatSeconds: number, at: Date): void {
    let forTenant = this.pending.get(store);
    if (!forTenant) this.pending.set(store, (forTenant = new Map()));
    forTenant.set(computerId, { hb, heartbeatSeconds, at });
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.intervalMs);
  }

  /** Writes everything pending; resolves when it is on disk. Called on a timer and at shutdown. */
  flush(): Promise<void> {
    const batch = [...this.pending];
    this.pending.clear();
    this.flushing = this.flushing.then(async () => {
      for (const [store, beats] of batch) {
        try {
          await store.computers.recordHeartbeats([...beats].map(([id, b]) => ({ id, ...b })));
        } catch {
          // The next heartbeat of each computer brings the same facts again.
        }
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
