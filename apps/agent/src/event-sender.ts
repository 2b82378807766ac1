import { AGENT_API, type EventBatchAck, EventBatchAckSchema } from '@palisade/protocol';
import { errorMessage, isAgentError } from './agent-error.ts';
import type { AgentLogger } from './agent-logger.ts';
import { backoffDelay, sleep, UNAUTHORIZED_RETRY_MS } from './backoff.ts';
import type { EventSpool } from './event-spool.ts';
import type { LinkState } from './link-state.ts';
import type { ManagerClient } from './manager-client.ts';

export interface EventSenderOptions {
  spool: EventSpool;
  client: ManagerClient;
  link: LinkState;
  logger: AgentLogger;
  batchSize?: number;
  /** Wait this long for a partial batch to fill, so a trickle of events is not one request each. */
  lingerMs?: number;
  maxBackoffMs?: number;
}

export interface SenderCounters {
  batchesSent: number;
  eventsAcked: number;
  failures: number;
}

/**
 * Moves events from the spool to the manager: oldest first, in batches, deleting each event only
 * once the manager lists its id in `acked`. The manager dedupes by id, so re-sending after a lost
 * answer is harmless.
 */
export class EventSender {
  private readonly batchSize: number;
  private readonly lingerMs: number;
  private readonly maxBackoffMs: number;
  private readonly abort = new AbortController();
  private wakeUp: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;
  readonly counters: SenderCounters = { batchesSent: 0, eventsAcked: 0, failures: 0 };

  constructor(private readonly options: EventSenderOptions) {
    this.batchSize = Math.min(options.batchSize ?? 500, 1000);
    this.lingerMs = options.lingerMs ?? 100;
    this.maxBackoffMs = options.maxBackoffMs ?? 5_000;
  }

  start(): void {
    this.unsubscribe = this.options.spool.onAdded(() => this.wakeUp?.());
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.wakeUp?.();
    this.unsubscribe?.();
    await this.loop;
  }

  private waitForEvents(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = undefined;
        done();
      };
    });
  }

  private async run(): Promise<void> {
    const { spool, client, link, logger } = this.options;
    const signal = this.abort.signal;
    let attempt = 0;
    let limit = this.batchSize;
    while (!signal.aborted) {
      let batch = spool.peek(limit);
      if (batch.length === 0) {
        await this.waitForEvents(1_000);
        continue;
      }
      if (batch.length < limit && this.lingerMs > 0 && attempt === 0) {
        await sleep(this.lingerMs, signal);
        if (signal.aborted) break;
        batch = spool.peek(limit);
        if (batch.length === 0) continue;
      }
      try {
        const ack = await client.call<EventBatchAck>('POST', AGENT_API.events, EventBatchAckSchema, { events: batch }, {
          signal,
          timeoutMs: 30_000,
        });
        link.ok();
        const removed = spool.ack(ack.acked);
        this.counters.batchesSent++;
        this.counters.eventsAcked += removed;
        attempt = 0;
        limit = this.batchSize;
        if (ack.acked.length === 0) {
          // nothing acknowledged although the manager answered 2xx: do not spin on the same batch
          logger.warn({ batch: batch.length }, 'manager acknowledged none of the batch; retrying later');
          await sleep(backoffDelay(4, 250, this.maxBackoffMs), signal);
        }
      } catch (err) {
        if (signal.aborted) break;
        const status = isAgentError(err) ? (err.details.status as number | undefined) : undefined;
        if (status === 400 || status === 413) {
          // the manager refuses the batch itself: halve it until the offending event is alone,
          // then drop that one (counted as rejected) so it cannot block everything behind it
          if (batch.length > 1) {
            limit = Math.ceil(batch.length / 2);
          } else {
            spool.reject([batch[0].id]);
            logger.error({ eventId: batch[0].id, err: errorMessage(err) }, 'manager rejected an event; dropped it');
            limit = this.batchSize;
          }
          continue;
        }
        link.failed(err);
        this.counters.failures++;
        const unauthorized = isAgentError(err) && err.code === 'AGENT_UNAUTHORIZED';
        const wait = Math.max(backoffDelay(attempt++, 250, this.maxBackoffMs), unauthorized ? UNAUTHORIZED_RETRY_MS : 0);
        if (attempt <= 1 || attempt % 10 === 0) {
          logger.warn({ err: errorMessage(err), retryInMs: wait, pending: spool.counters().pending }, 'event delivery failed');
        }
        await sleep(wait, signal);
      }
    }
  }
}
