/**
 * A forwarder's dead letters as the manager's REST API returns them
 * (`GET /api/v1/forwarders/{id}/dead-letters`): declared once here for the manager and api-client.
 */

/** `refused` by the receiver, or past the policy's `max-attempts` / `max-age`. */
export const DEAD_LETTER_REASONS = ['refused', 'max-attempts', 'max-age'] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

/** One event a forwarder gave up on. */
export interface ForwarderDeadLetter {
  id: string;
  forwarderId: string;
  eventId: string;
  /** When it was queued, and when it gave up. */
  enqueuedAt: string;
  deadAt: string;
  attempts: number;
  reason: DeadLetterReason;
  lastError: string;
  event: {
    module: string;
    type: string;
    severity: string;
    time: string;
    computerId: string;
    hostname: string;
    message: string;
  };
}
