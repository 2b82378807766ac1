import { randomUUID } from 'node:crypto';
import type { AgentEvent } from '@palisade/protocol';
import { AgentError } from './agent-error.ts';
import { sleep } from './backoff.ts';

export interface TestEventsResult {
  runId: string;
  requested: number;
  /** Events handed to the spool (the spool may still drop some if it is full). */
  emitted: number;
  stored: number;
  firstId: string | null;
  lastId: string | null;
  seconds: number;
  aborted: boolean;
}

export const MAX_TEST_EVENTS = 1_000_000;

export function parseTestEventsParams(params: Record<string, unknown>): { count: number; rate?: number } {
  const count = params.count;
  const rate = params.rate;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_TEST_EVENTS) {
    throw new AgentError('AGENT_BAD_ARGUMENT', `count must be an integer from 1 to ${MAX_TEST_EVENTS}`);
  }
  if (rate !== undefined && rate !== null && (typeof rate !== 'number' || !(rate > 0) || rate > 1_000_000)) {
    throw new AgentError('AGENT_BAD_ARGUMENT', 'rate must be a positive number of events per second');
  }
  return { count, rate: typeof rate === 'number' ? rate : undefined };
}

/**
 * Emits N `system`/`test` events through `store`, either paced at `rate`/s or in chunks as fast
 * as the spool takes them. Used to prove delivery end to end, so every event has its own UUID
 * and carries its run id and sequence number.
 */
export async function generateTestEvents(
  options: { count: number; rate?: number; signal?: AbortSignal },
  store: (events: AgentEvent[]) => number,
): Promise<TestEventsResult> {
  const runId = randomUUID();
  const { count, rate, signal } = options;
  const began = performance.now();
  let emitted = 0;
  let stored = 0;
  let firstId: string | null = null;
  let lastId: string | null = null;
  const make = (n: number): AgentEvent[] => {
    const out: AgentEvent[] = [];
    const time = new Date().toISOString();
    for (let i = 0; i < n; i++) {
      const seq = emitted + i + 1;
      out.push({
        id: randomUUID(),
        time,
        module: 'system',
        type: 'test',
        severity: 'info',
        message: `test event ${seq} of ${count}`,
        details: { runId, seq, count },
      });
    }
    return out;
  };
  const push = (n: number) => {
    const batch = make(n);
    stored += store(batch);
    firstId ??= batch[0]?.id ?? null;
    lastId = batch[batch.length - 1]?.id ?? lastId;
    emitted += n;
  };
  while (emitted < count && !signal?.aborted) {
    if (rate === undefined) {
      push(Math.min(500, count - emitted));
      await new Promise<void>((r) => setImmediate(r)); // let the sender and the socket breathe
      continue;
    }
    const elapsed = performance.now() - began;
    const due = Math.min(count, Math.floor((elapsed * rate) / 1000) + 1);
    if (due > emitted) push(due - emitted);
    if (emitted < count) await sleep(Math.max(5, Math.min(50, 1000 / rate)), signal);
  }
  return {
    runId,
    requested: count,
    emitted,
    stored,
    firstId,
    lastId,
    seconds: Math.round(performance.now() - began) / 1000,
    aborted: emitted < count,
  };
}
