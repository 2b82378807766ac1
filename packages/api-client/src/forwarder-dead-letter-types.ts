/** Events a forwarder gave up on (`GET /api/v1/forwarders/{id}/dead-letters`). */
export interface ForwarderDeadLetter {
  id: string;
  forwarderId: string;
  eventId: string;
  enqueuedAt: string;
  deadAt: string;
  attempts: number;
  /** `refused` by the receiver, or past the policy's `max-attempts` / `max-age`. */
  reason: 'refused' | 'max-attempts' | 'max-age';
  lastError: string;
  event: { module: string; type: string; severity: string; time: string; computerId: string; hostname: string; message: string };
}

export interface ForwarderDeadLetterPage {
  forwarderId: string;
  total: number;
  deadLetters: ForwarderDeadLetter[];
  /** Pass as `after` for the next page; null on the last one. */
  next: string | null;
}

/** `PUT /api/v1/forwarders/{id}/dead-letter-policy`; null = no limit. */
export interface ForwarderDeadLetterPolicy {
  maxAttempts: number | null;
  maxAgeSeconds: number | null;
}
