import type { ForwarderDeadLetter } from '@palisade/protocol';

/** Events a forwarder gave up on (`GET /api/v1/forwarders/{id}/dead-letters`): declared in @palisade/protocol. */
export type { ForwarderDeadLetter };

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
