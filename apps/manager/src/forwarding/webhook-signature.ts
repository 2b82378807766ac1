import { createHmac } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-palisade-signature';
export const TIMESTAMP_HEADER = 'x-palisade-timestamp';

/**
 * `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`. The timestamp (Unix seconds, also
 * sent in its own header) is inside the MAC so a captured request cannot be replayed later.
 */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}
