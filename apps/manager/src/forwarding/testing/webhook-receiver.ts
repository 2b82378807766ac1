import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

export interface WebhookDelivery {
  body: string;
  timestamp: string;
  signature: string;
  /** Whether the signature matched the shared secret (computed here, independently). */
  valid: boolean;
}

export interface WebhookReceiver {
  url: string;
  deliveries: WebhookDelivery[];
  /** Accepted (2xx) bodies' events, in order. */
  accepted: Record<string, unknown>[];
  /** HTTP status to answer with (default 204); a 5xx simulates an outage. */
  status: number;
  close(): Promise<void>;
}

/**
 * A receiver as an operator would write one: recompute HMAC-SHA256 over `<timestamp>.<body>`
 * with the shared secret, compare in constant time, refuse stale timestamps and bad signatures.
 */
export async function startWebhookReceiver(
  secret: string,
  opts: { now?: () => number; toleranceSeconds?: number } = {},
): Promise<WebhookReceiver> {
  const rx: WebhookReceiver = { url: '', deliveries: [], accepted: [], status: 204, close: async () => {} };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const timestamp = String(req.headers['x-palisade-timestamp'] ?? '');
      const signature = String(req.headers['x-palisade-signature'] ?? '');
      const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`);
      const fresh = Math.abs((opts.now?.() ?? Date.now()) / 1000 - Number(timestamp)) <= (opts.toleranceSeconds ?? 300);
      const valid = expected.length === signature.length && timingSafeEqual(expected, Buffer.from(signature)) && fresh;
      rx.deliveries.push({ body, timestamp, signature, valid });
      if (!valid) {
        res.writeHead(401).end();
        return;
      }
      if (rx.status >= 200 && rx.status < 300) rx.accepted.push(...(JSON.parse(body) as Record<string, unknown>[]));
      res.writeHead(rx.status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  rx.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks/palisade`;
  rx.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return rx;
}
