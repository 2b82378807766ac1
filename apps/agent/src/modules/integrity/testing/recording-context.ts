import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { ModuleConfig } from '@palisade/protocol';
import { silentLogger } from '../../../agent-logger.ts';
import type { ModuleContext, ModuleEventInput } from '../../../agent-module.ts';

export type RecordedEvent = ModuleEventInput & { id: string; time: string; module: 'integrity' };

/**
 * The context the integrity module's tests start it with: every event it emits is pushed to
 * `events` as the agent would store it (a fresh id, the time, the module), the logger is silent,
 * and `dataDir` is created.
 */
export function recordingContext(config: ModuleConfig, events: ModuleEventInput[], dataDir: string): ModuleContext {
  mkdirSync(dataDir, { recursive: true });
  return {
    emit: (e) => {
      const full: RecordedEvent = { ...e, id: randomUUID(), time: new Date().toISOString(), module: 'integrity' };
      events.push(full);
      return full as never;
    },
    logger: silentLogger(),
    dataDir,
    config,
  };
}

/** Polls `check` every 25 ms until it returns something, or throws after `ms`. */
export async function waitFor<T>(what: string, check: () => T | undefined, ms: number): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}
