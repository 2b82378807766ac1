/**
 * A receiver's definite "no" to what was sent (a webhook's 400 or 413, SNS `InvalidParameter`):
 * sending the same events again cannot succeed, unlike a timeout, a 5xx or a 429. The dispatcher
 * narrows a refused batch down to the events the receiver refuses and dead-letters only those.
 */
export class DeliveryRefused extends Error {
  readonly refused = true;
}

export function isDeliveryRefused(err: unknown): err is DeliveryRefused {
  return err instanceof DeliveryRefused;
}

/**
 * Webhook answers that refuse the request itself. 4xx except those that say something about the
 * receiver's state or configuration rather than about the events: 401/403 (secret or access),
 * 404/410 (wrong URL), 407 (proxy), 408 (timeout), 425/429 (try later). Those are retried with
 * backoff like a 5xx, so a misconfigured receiver never empties the outbox into dead letters.
 */
const NOT_ABOUT_THE_EVENTS = new Set([401, 403, 404, 407, 408, 410, 425, 429]);

export function webhookStatusRefuses(status: number): boolean {
  return status >= 400 && status < 500 && !NOT_ABOUT_THE_EVENTS.has(status);
}

/** SNS errors about the message itself (e.g. `Invalid parameter: Message too long`). */
const SNS_REFUSALS = new Set(['InvalidParameter', 'InvalidParameterException', 'InvalidParameterValue', 'InvalidParameterValueException']);

export function snsErrorRefuses(err: unknown): boolean {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return SNS_REFUSALS.has(e.name ?? '') || SNS_REFUSALS.has(e.Code ?? '');
}
