import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { FastifyBaseLogger } from 'fastify';
import type { StoreProvider } from '../store/store-provider.ts';
import type { OutboxEntry } from '../store/forwarder-repository.ts';
import type { TenantStore } from '../store/tenant-store.ts';
import { createSender } from './create-sender.ts';
import { isDeliveryRefused } from './delivery-refused.ts';
import type { EventSender } from './event-sender.ts';
import type { DeadLetterPolicy, Forwarder, ForwarderSecrets } from './forwarder-config.ts';

export interface DispatcherOptions {
  pollMs?: number;
  /** Events per delivery attempt. */
  batchSize?: number;
  /** First retry delay; doubles per consecutive failure up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
  leaseSeconds?: number;
  log?: FastifyBaseLogger;
  /** Tests swap the transport; production builds it from the forwarder's settings. */
  senderFor?: (f: Forwarder, secrets: ForwarderSecrets) => EventSender;
}

export const DEFAULT_BACKOFF_MS = 1000;
export const DEFAULT_MAX_BACKOFF_MS = 60_000;

/** Delay before retry number `failures` (1 = first retry): doubling, capped. */
export function backoffDelay(failures: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(30, failures - 1)));
}

/**
 * Drains every forwarder's outbox on every manager node. Per forwarder it sends the oldest
 * batch, deletes it only when the receiver took it, and on failure waits (backoff) and sends the
 * same batch again: nothing later overtakes it, so order is kept and an outage loses nothing.
 * Only an event the receiver refuses outright, or one past the forwarder's dead-letter policy,
 * leaves the queue undelivered: into the forwarder's dead letters, with the last error.
 */
export class ForwarderDispatcher {
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly stores: StoreProvider,
    private readonly opts: DispatcherOptions = {},
  ) {}

  start(): void {
    const loop = async () => {
      if (this.stopped) return;
      this.running = this.tick().catch((err) => this.opts.log?.error({ err }, 'forwarder dispatcher tick failed'));
      await this.running;
      if (!this.stopped) this.timer = setTimeout(loop, this.opts.pollMs ?? 500);
    };
    this.timer = setTimeout(loop, 10);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass over every tenant's due forwarders. */
  async tick(): Promise<void> {
    for (const tenant of await this.stores.listTenants()) {
      if (this.stopped) return;
      const store = await this.stores.tenant(tenant.id);
      if (!store) continue;
      for (const id of await store.forwarders.due()) {
        if (this.stopped) return;
        await this.drain(store, id);
      }
    }
  }

  private async drain(store: TenantStore, id: string): Promise<void> {
    if (!(await store.forwarders.claim(id, this.owner, this.opts.leaseSeconds ?? 60))) return;
    let sender: EventSender | undefined;
    try {
      const f = await store.forwarders.get(id);
      if (!f?.enabled) return;
      const secrets = await store.forwarders.secretsOf(id);
      // A bounded number of batches per tick so one busy forwarder cannot starve the others.
      for (let i = 0; i < 20 && !this.stopped; i++) {
        let batch = await store.forwarders.peek(id, this.opts.batchSize ?? 200);
        if (batch.length === 0) return;
        batch = await this.dropExpired(store, f, batch);
        if (batch.length === 0) continue;
        sender ??= this.opts.senderFor?.(f, secrets) ?? createSender(f, secrets, this.stores.clock);
        if (!(await this.deliver(store, f, sender, batch))) return;
      }
    } finally {
      await sender?.close().catch(() => {});
      await store.forwarders.release(id, this.owner);
    }
  }

  /** `maxAgeSeconds`: entries queued longer ago than that are dead-lettered instead of sent. */
  private async dropExpired(store: TenantStore, f: Forwarder, batch: OutboxEntry[]): Promise<OutboxEntry[]> {
    const maxAge = f.deadLetterPolicy.maxAgeSeconds;
    if (!maxAge) return batch;
    const cutoff = new Date(this.stores.clock().getTime() - maxAge * 1000).toISOString();
    const old = batch.filter((b) => b.enqueuedAt < cutoff);
    if (old.length === 0) return batch;
    const why = `not delivered within ${maxAge} s${f.delivery.lastError ? `; last error: ${f.delivery.lastError}` : ''}`;
    await this.buried(
      store,
      f,
      old.map((b) => b.id),
      'max-age',
      why,
    );
    return batch.filter((b) => b.enqueuedAt >= cutoff);
  }

  /**
   * Sends a batch. Delivered: removed from the outbox. Refused by the receiver (a definite "no",
   * see DeliveryRefused): the batch is halved until the refused events are found, those go to
   * the dead letters and the rest is delivered, in order. Any other failure: backoff, the same
   * events again next time (and `maxAttempts` dead-letters those that used up their attempts).
   * Returns false when the forwarder has to wait.
   */
  private async deliver(store: TenantStore, f: Forwarder, sender: EventSender, batch: OutboxEntry[]): Promise<boolean> {
    const id = f.id;
    try {
      await sender.send(batch.map((b) => b.event));
    } catch (err) {
      const message = (err as Error).message || String(err);
      if (isDeliveryRefused(err)) {
        if (batch.length === 1) {
          await this.buried(store, f, [batch[0]!.id], 'refused', message);
          return true;
        }
        const half = Math.ceil(batch.length / 2);
        return (await this.deliver(store, f, sender, batch.slice(0, half))) && this.deliver(store, f, sender, batch.slice(half));
      }
      await store.forwarders.recordAttempt(
        id,
        batch.map((b) => b.id),
      );
      const max = f.deadLetterPolicy.maxAttempts;
      if (max) {
        const spent = batch.filter((b) => b.attempts + 1 >= max).map((b) => b.id);
        if (spent.length > 0) await this.buried(store, f, spent, 'max-attempts', `${max} attempts failed; last error: ${message}`);
      }
      const failures = (await store.forwarders.failuresOf(id)) + 1;
      const delay = backoffDelay(failures, this.opts.backoffMs ?? DEFAULT_BACKOFF_MS, this.opts.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS);
      await store.forwarders.failed(id, message, new Date(this.stores.clock().getTime() + delay));
      // Only the error text: settings and secrets stay out of the log.
      this.opts.log?.warn({ forwarder: f.name, tenant: store.tenantId, failures, retryInMs: delay, error: message }, 'forwarding failed');
      return false;
    }
    await store.forwarders.delivered(
      id,
      batch.map((b) => b.id),
    );
    return true;
  }

  private async buried(
    store: TenantStore,
    f: Forwarder,
    entryIds: string[],
    reason: 'refused' | 'max-attempts' | 'max-age',
    error: string,
  ): Promise<void> {
    const moved = await store.forwarders.deadLetter(f.id, entryIds, reason, error);
    if (moved > 0)
      this.opts.log?.warn({ forwarder: f.name, tenant: store.tenantId, events: moved, reason, error }, 'events moved to dead letters');
  }
}
