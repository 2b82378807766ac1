import { createHash } from 'node:crypto';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DeliveryRefused, snsErrorRefuses } from './delivery-refused.ts';
import type { EventSender } from './event-sender.ts';
import type { ForwardedEvent } from './forwarded-event.ts';
import { type ForwarderSecrets, type SnsSettings, topicRegion } from './forwarder-config.ts';
import { snsEventRecord } from './sns-event-layout.ts';

/** SNS refuses messages over 256 KiB. */
export const SNS_MAX_MESSAGE_BYTES = 262_144;

/** Cuts long strings of a record that alone would not fit one message. */
function shrink(record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) out[k] = typeof v === 'string' && v.length > 4096 ? `${v.slice(0, 4096)}…` : v;
  return out;
}

/** Splits records into JSON arrays that each fit one SNS message, keeping their order. */
export function snsMessages(records: Record<string, unknown>[], limit = SNS_MAX_MESSAGE_BYTES): string[] {
  const messages: string[] = [];
  let current: string[] = [];
  let size = 2;
  for (const r of records) {
    let text = JSON.stringify(r);
    if (Buffer.byteLength(text) + 2 > limit) text = JSON.stringify(shrink(r));
    const len = Buffer.byteLength(text) + 1;
    if (current.length > 0 && size + len > limit) {
      messages.push(`[${current.join(',')}]`);
      current = [];
      size = 2;
    }
    current.push(text);
    size += len;
  }
  if (current.length) messages.push(`[${current.join(',')}]`);
  return messages;
}

/**
 * Publishes a batch to an SNS topic as JSON arrays of events. The SDK's own retries are off:
 * the outbox retries with backoff, and an SDK retry inside a long outage would only hold the lease.
 */
export class SnsSender implements EventSender {
  private readonly client: SNSClient;

  constructor(
    private readonly settings: SnsSettings,
    secrets: ForwarderSecrets,
  ) {
    this.client = new SNSClient({
      region: settings.region ?? topicRegion(settings.topicArn),
      maxAttempts: 1,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      ...(settings.accessKeyId && secrets.secretAccessKey
        ? { credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: secrets.secretAccessKey } }
        : {}),
    });
  }

  async send(events: readonly ForwardedEvent[]): Promise<void> {
    const fifo = this.settings.topicArn.endsWith('.fifo');
    for (const message of snsMessages(events.map(snsEventRecord))) {
      await this.publish(message, fifo);
    }
  }

  private async publish(message: string, fifo: boolean): Promise<void> {
    try {
      await this.client.send(
        new PublishCommand({
          TopicArn: this.settings.topicArn,
          Message: message,
          // FIFO topics: one group keeps the forwarder's order; the content hash lets SNS drop
          // the copy a retry after a lost answer would publish.
          ...(fifo ? { MessageGroupId: 'palisade', MessageDeduplicationId: createHash('sha256').update(message).digest('hex') } : {}),
        }),
      );
    } catch (err) {
      // SNS refuses the message itself: publishing it again cannot work.
      if (snsErrorRefuses(err))
        throw new DeliveryRefused(`sns ${this.settings.topicArn}: ${(err as Error).name}: ${(err as Error).message}`);
      throw err;
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
