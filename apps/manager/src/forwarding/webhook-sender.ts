import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { DeliveryRefused, webhookStatusRefuses } from './delivery-refused.ts';
import type { EventSender } from './event-sender.ts';
import type { ForwardedEvent } from './forwarded-event.ts';
import type { ForwarderSecrets, WebhookSettings } from './forwarder-config.ts';
import { snsEventRecord } from './sns-event-layout.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, webhookSignature } from './webhook-signature.ts';

/**
 * POSTs a batch as a JSON array with an HMAC signature. Only a 2xx answer counts as delivered;
 * anything else (or no answer) leaves the batch in the outbox for a retry with backoff, except a
 * refusal (see `webhookStatusRefuses`), which the dispatcher narrows down to dead-letter.
 */
export class WebhookSender implements EventSender {
  constructor(
    private readonly settings: WebhookSettings,
    private readonly secrets: ForwarderSecrets,
    private readonly now: () => Date,
    private readonly timeoutMs = 10_000,
  ) {}

  async send(events: readonly ForwardedEvent[]): Promise<void> {
    if (events.length === 0) return;
    const body = JSON.stringify(events.map(snsEventRecord));
    const timestamp = Math.floor(this.now().getTime() / 1000);
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'user-agent': 'palisade-manager',
      [TIMESTAMP_HEADER]: String(timestamp),
    };
    if (this.secrets.secret) headers[SIGNATURE_HEADER] = webhookSignature(this.secrets.secret, timestamp, body);
    const url = new URL(this.settings.url);
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    await new Promise<void>((resolve, reject) => {
      const req = request(
        url,
        { method: 'POST', headers, timeout: this.timeoutMs, ...(this.settings.caPem ? { ca: this.settings.caPem } : {}) },
        (res) => {
          res.resume();
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve();
            else {
              const message = `webhook ${url.origin}${url.pathname}: HTTP ${status}`;
              reject(webhookStatusRefuses(status) ? new DeliveryRefused(message) : new Error(message));
            }
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`webhook ${url.origin}${url.pathname}: timed out`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  async close(): Promise<void> {}
}
