import type { ForwardedEvent } from './forwarded-event.ts';

/**
 * Delivers one batch, in order, or throws. A throw means "not delivered": the batch stays in the
 * outbox and is sent again (at-least-once), so senders never swallow an error.
 */
export interface EventSender {
  send(events: readonly ForwardedEvent[]): Promise<void>;
  close(): Promise<void>;
}
