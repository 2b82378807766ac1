import { setTimeout as delay } from 'node:timers/promises';

/**
 * Exponential backoff with ±20 % jitter, capped low (5 s by default) on purpose: after a manager
 * outage the agents must resume delivery within seconds, and jitter spreads their reconnects.
 */
export function backoffDelay(attempt: number, baseMs = 250, capMs = 5_000, random: () => number = Math.random): number {
  const raw = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(raw * (0.8 + 0.4 * random()));
}

/** Resolves after `ms`, or early (without throwing) when the signal aborts. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return;
  try {
    await delay(ms, undefined, { signal });
  } catch {
    // aborted: the caller checks its own stop flag
  }
}

/**
 * Refused credentials do not heal by retrying (the agent was deactivated or deleted), so a
 * fleet of such agents must not knock every few seconds: wait at least 30 s between tries.
 */
export const UNAUTHORIZED_RETRY_MS = 30_000;
